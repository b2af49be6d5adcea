// The transport's socket I/O, once: each operation is a non-blocking step, which the event loops call when
// epoll says the socket is ready, and a blocking form for worker threads that repeats the same step and
// waits with poll() in between. So a connection is read, written and lingered over by the same code
// whichever thread serves it.
#pragma once

#include <sys/uio.h>

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace logclf::server {

enum class Io {
  done,    // the step finished (all written; some data read)
  again,   // the socket would block: wait until it is ready
  closed,  // the peer closed its side (reads)
  failed,  // the connection broke
};

// Waits until `fd` is ready for `events` (POLLIN, POLLOUT); false on timeout or error.
bool wait_until_ready(int fd, short events, std::chrono::milliseconds timeout);

// Reads once into `buffer` (`size` bytes) and appends what came to `in`: done (with `*got` bytes),
// again, closed or failed.
Io read_step(int fd, std::string& in, char* buffer, std::size_t size, std::size_t* got = nullptr);
// read_step() waiting up to `timeout` while the socket has nothing: done, closed or failed (timeout).
Io read_blocking(int fd, std::string& in, char* buffer, std::size_t size, std::chrono::milliseconds timeout);

// Writes what the socket takes of `iov` (`count` entries), advancing both past what was written: done
// when all is written, again or failed.
Io write_step(int fd, iovec*& iov, std::size_t& count);
// Writes `out` from `pos` on, advancing `pos`: done, again or failed.
Io write_step(int fd, const std::string& out, std::size_t& pos);
// write_step() until all is written, waiting up to `timeout` each time the socket is full.
bool write_all(int fd, iovec* iov, std::size_t count, std::chrono::milliseconds timeout);
bool write_all(int fd, std::string_view data, std::chrono::milliseconds timeout);

// The "lingering close" of a connection shut for writing: what still arrives is read and dropped, counted
// in `drained`. again: wait for more; done: close now (the client closed, or `limit` bytes were dropped,
// or the connection broke). Only the event loops linger (a worker hands a closing connection back), so
// there is no blocking form.
Io linger_step(int fd, char* buffer, std::size_t size, std::size_t& drained, std::size_t limit);

}  // namespace logclf::server
