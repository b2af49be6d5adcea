// Output files. A regular file (or a new one) appears complete or not at all: data goes to a temporary
// beside it (io/temp_path.h), which commit() fsyncs and renames over it. A symbolic link is followed and
// its final target replaced that way, so the link stays a link. A FIFO, character or block device or Unix
// socket is written directly as a stream (a rename would replace the device or FIFO with a regular file).
// A directory is an error.
#pragma once

#include <string>
#include <string_view>

namespace logclf::io {

// Writes all of `data` to `fd`, retrying short writes and EINTR.
// Throws Error("NAME: write error: <strerror>") (e.g. ENOSPC, or EPIPE once SIGPIPE is ignored).
void write_all(int fd, std::string_view data, const std::string& name);

class AtomicFile {
 public:
  // Opens the temporary file (with the permissions a new file would get, or those of the file it will
  // replace), or the stream. Throws Error naming `path` when it cannot.
  explicit AtomicFile(std::string path);
  // Removes the temporary file unless commit() succeeded.
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(std::string_view data);
  // A file: fsync, rename over the target, fsync of its directory. A stream: close.
  void commit();
  const std::string& path() const { return path_; }
  // The temporary file; empty for a stream.
  const std::string& temp_path() const { return temp_path_; }

 private:
  std::string path_;    // as given, for messages
  std::string target_;  // path_ with symbolic links followed
  std::string temp_path_;
  int fd_ = -1;
  int slot_ = -1;           // entry in the pending-file registry, -1 if not registered
  bool committed_ = false;
};

}  // namespace logclf::io
