// A buffered byte source shared by the readers: a file descriptor read in large blocks, or a string in
// memory. Readers scan the unconsumed window directly (memchr etc.), so there is no per-byte call.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

namespace logclf::io {

class InputSource {
 public:
  // Opens `path` for reading; "-" is standard input (not closed on destruction).
  // Throws Error("cannot open 'PATH': <strerror>").
  static InputSource open(const std::string& path);
  // Reads from memory. With `chunk`, each fill() makes at most that many more bytes visible, which lets
  // tests and fuzzers put a buffer boundary at every position of a record.
  static InputSource from_string(std::string data, std::size_t chunk = std::string::npos);

  InputSource(InputSource&& other) noexcept;
  InputSource& operator=(InputSource&&) = delete;
  InputSource(const InputSource&) = delete;
  ~InputSource();

  // The buffered bytes not yet consumed. Valid until the next fill().
  const char* data() const { return buffer_.data() + begin_; }
  std::size_t size() const { return end_ - begin_; }
  void consume(std::size_t n) { begin_ += n; }
  // Bytes consumed since the start, and the input's size when it is a regular file or a string (0 when
  // unknown, e.g. a pipe): for progress reports.
  std::uint64_t position() const { return discarded_ + begin_; }
  std::uint64_t total_size() const { return total_size_; }

  // A pipe, terminal or socket: reading may wait for a writer (a regular file or a string never does).
  bool live() const { return live_; }
  // From now on fill() on a live input ends the input, as at its end, within about 100 ms of `*flag`
  // becoming true, instead of waiting for a writer that may never write again.
  void stop_when(const std::atomic<bool>* flag) { stop_ = flag; }

  // Appends more input to the window (moving it to the front of the buffer, so pointers into it are
  // invalidated but offsets from data() stay valid). Returns false at end of input. Returns as soon as
  // one read() delivers data, so a slow pipe is not waited on until a whole block arrives.
  // Throws Error("NAME: read error: <strerror>").
  bool fill(const std::string& name);

 private:
  InputSource(int fd, bool owns_fd, std::string buffer, std::size_t chunk);

  int fd_;              // -1 for a string source
  bool owns_fd_;
  std::string buffer_;  // data lives in [begin_, end_)
  std::size_t chunk_;   // string source: bytes made visible per fill()
  std::size_t begin_ = 0;
  std::size_t end_;
  std::uint64_t discarded_ = 0;   // bytes moved out of the window by fill()
  std::uint64_t total_size_ = 0;
  bool live_ = false;
  const std::atomic<bool>* stop_ = nullptr;
};

}  // namespace logclf::io
