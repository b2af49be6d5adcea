#include "server/socket_io.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

namespace logclf::server {

namespace {
bool would_block() { return errno == EAGAIN || errno == EWOULDBLOCK; }
}  // namespace

bool wait_until_ready(int fd, short events, std::chrono::milliseconds timeout) {
  pollfd p{fd, events, 0};
  for (;;) {
    const int n = ::poll(&p, 1, static_cast<int>(timeout.count()));
    if (n > 0) return true;
    if (n == 0 || errno != EINTR) return false;
  }
}

Io read_step(int fd, std::string& in, char* buffer, std::size_t size, std::size_t* got) {
  for (;;) {
    const ssize_t n = ::recv(fd, buffer, size, 0);
    if (n > 0) {
      in.append(buffer, static_cast<std::size_t>(n));
      if (got != nullptr) *got = static_cast<std::size_t>(n);
      return Io::done;
    }
    if (n == 0) return Io::closed;
    if (errno == EINTR) continue;
    return would_block() ? Io::again : Io::failed;
  }
}

Io read_blocking(int fd, std::string& in, char* buffer, std::size_t size, std::chrono::milliseconds timeout) {
  for (;;) {
    const Io io = read_step(fd, in, buffer, size);
    if (io != Io::again) return io;
    if (!wait_until_ready(fd, POLLIN, timeout)) return Io::failed;
  }
}

Io write_step(int fd, iovec*& iov, std::size_t& count) {
  while (count > 0) {
    msghdr message{};
    message.msg_iov = iov;
    message.msg_iovlen = count;
    const ssize_t n = ::sendmsg(fd, &message, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return would_block() ? Io::again : Io::failed;
    }
    if (n == 0) return Io::failed;
    auto left = static_cast<std::size_t>(n);
    while (count > 0 && left >= iov->iov_len) {
      left -= iov->iov_len;
      ++iov;
      --count;
    }
    if (count > 0) {
      iov->iov_base = static_cast<char*>(iov->iov_base) + left;
      iov->iov_len -= left;
    }
  }
  return Io::done;
}

Io write_step(int fd, const std::string& out, std::size_t& pos) {
  iovec one{const_cast<char*>(out.data()) + pos, out.size() - pos};
  iovec* iov = &one;
  std::size_t count = one.iov_len > 0 ? 1 : 0;
  const Io io = write_step(fd, iov, count);
  pos = out.size() - (count > 0 ? iov->iov_len : 0);
  return io;
}

bool write_all(int fd, iovec* iov, std::size_t count, std::chrono::milliseconds timeout) {
  for (;;) {
    const Io io = write_step(fd, iov, count);
    if (io != Io::again) return io == Io::done;
    if (!wait_until_ready(fd, POLLOUT, timeout)) return false;
  }
}

bool write_all(int fd, std::string_view data, std::chrono::milliseconds timeout) {
  iovec iov{const_cast<char*>(data.data()), data.size()};
  return data.empty() || write_all(fd, &iov, 1, timeout);
}

Io linger_step(int fd, char* buffer, std::size_t size, std::size_t& drained, std::size_t limit) {
  for (;;) {
    const ssize_t n = ::recv(fd, buffer, size, 0);
    if (n > 0 && (drained += static_cast<std::size_t>(n)) <= limit) continue;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && would_block()) return Io::again;
    return Io::done;
  }
}

}  // namespace logclf::server
