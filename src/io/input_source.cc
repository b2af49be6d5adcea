#include "io/input_source.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "logclf/types.h"

namespace logclf::io {

namespace {
// Large reads keep the syscall count negligible next to parsing.
constexpr std::size_t kReadBlock = std::size_t{1} << 20;
}  // namespace

InputSource::InputSource(int fd, bool owns_fd, std::string buffer, std::size_t chunk)
    : fd_(fd), owns_fd_(owns_fd), buffer_(std::move(buffer)), chunk_(chunk), end_(std::min(buffer_.size(), chunk)) {
  if (fd_ < 0) {
    total_size_ = buffer_.size();
  } else if (struct stat st; ::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode)) {
    total_size_ = static_cast<std::uint64_t>(st.st_size);
  } else {
    live_ = true;
  }
}

InputSource::InputSource(InputSource&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      owns_fd_(std::exchange(other.owns_fd_, false)),
      buffer_(std::move(other.buffer_)),
      chunk_(other.chunk_),
      begin_(std::exchange(other.begin_, 0)),
      end_(std::exchange(other.end_, 0)),
      discarded_(other.discarded_),
      total_size_(other.total_size_),
      live_(other.live_),
      stop_(other.stop_) {}

InputSource::~InputSource() {
  if (owns_fd_) ::close(fd_);
}

InputSource InputSource::open(const std::string& path) {
  if (path == "-") return InputSource(STDIN_FILENO, false, {}, 0);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error("cannot open '" + path + "': " + std::strerror(errno));
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);  // only a hint: failure changes nothing
  return InputSource(fd, true, {}, 0);
}

InputSource InputSource::from_string(std::string data, std::size_t chunk) {
  return InputSource(-1, false, std::move(data), chunk == 0 ? 1 : chunk);
}

bool InputSource::fill(const std::string& name) {
  if (fd_ < 0) {
    if (end_ == buffer_.size()) return false;
    end_ += std::min(buffer_.size() - end_, chunk_);
    return true;
  }
  if (begin_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    discarded_ += begin_;
    end_ -= begin_;
    begin_ = 0;
  }
  // The window only ever holds one partial record (bounded by the readers' max_record_bytes) plus a
  // block, so the buffer stays small.
  if (buffer_.size() - end_ < kReadBlock) buffer_.resize(end_ + kReadBlock);
  for (;;) {
    if (stop_ != nullptr && live_) {
      // Waits in slices so that a stop request is seen even when no writer ever writes again.
      pollfd p{fd_, POLLIN, 0};
      if (stop_->load(std::memory_order_relaxed)) return false;
      const int ready = ::poll(&p, 1, 100);
      if (ready == 0 || (ready < 0 && errno == EINTR)) continue;
    }
    ssize_t n = ::read(fd_, buffer_.data() + end_, buffer_.size() - end_);
    if (n > 0) {
      end_ += static_cast<std::size_t>(n);
      return true;
    }
    if (n == 0) return false;
    if (errno != EINTR) throw Error(name + ": read error: " + std::strerror(errno));
  }
}

}  // namespace logclf::io
