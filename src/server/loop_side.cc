// The event loops: each waits on its epoll set, accepts, reads and parses, answers what it can at once,
// writes, and once a second closes what has been quiet too long. A request that could block the loop is
// handed to a worker thread (worker_side.cc) and comes back when it is answered.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "server/socket_io.h"
#include "server/transport.h"

namespace logclf::server {

namespace {
constexpr std::uint32_t kConnectionEvents = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;

bool watch(Loop& loop, Connection& c) {
  epoll_event e{};
  e.events = kConnectionEvents;
  e.data.ptr = &c;
  return c.fd >= 0 && ::epoll_ctl(loop.epoll, EPOLL_CTL_ADD, c.fd, &e) == 0;
}
}  // namespace

void Transport::run_loop(Loop& loop) {
  std::vector<epoll_event> events(256);
  Clock::time_point next_sweep = Clock::now() + 1s;
  bool stop_seen = false;
  for (;;) {
    if (stopping_ && !stop_seen) {
      stop_seen = true;
      if (loop.listening) ::epoll_ctl(loop.epoll, EPOLL_CTL_DEL, listener_, nullptr);
      loop.listening = false;
    }
    if (stop_seen) {
      close_idle(loop);
      if (loop.connections.empty()) break;
    }
    const int n = ::epoll_wait(loop.epoll, events.data(), static_cast<int>(events.size()), 1000);
    loop.now = Clock::now();
    for (int i = 0; i < n; ++i) {
      void* tag = events[i].data.ptr;
      if (tag == &listener_tag) {
        accept_all(loop);
      } else if (tag == &wake_tag) {
        std::uint64_t count;
        while (::read(loop.wake, &count, sizeof count) > 0) {
        }
        take_returned(loop);
      } else {
        on_event(loop, *static_cast<Connection*>(tag), events[i].events);
      }
    }
    // Not closed when marked: a later event of the same batch may still name the connection.
    if (loop.evicted > 0) {
      for (std::size_t i = loop.connections.size(); i-- > 0;)
        if (loop.connections[i]->evicted) close_connection(loop, *loop.connections[i]);
      loop.evicted = 0;
    }
    if (loop.now >= next_sweep) {
      sweep(loop);
      next_sweep = loop.now + 1s;
    }
  }
}

void Transport::accept_all(Loop& loop) {
  // A bounded number per wake-up, so that the loops share a burst of connections.
  for (int i = 0; i < 64; ++i) {
    sockaddr_storage address{};
    socklen_t size = sizeof address;
    const int fd = ::accept4(listener_, reinterpret_cast<sockaddr*>(&address), &size, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      // Out of descriptors or memory: accepting pauses for a second rather than spin on the ready listener.
      // After stop() the shut-down listener fails: accepting ends.
      ::epoll_ctl(loop.epoll, EPOLL_CTL_DEL, listener_, nullptr);
      loop.listening = false;
      if (!stopping_) loop.accept_paused_until = loop.now + 1s;
      return;
    }
    const ClientAddress client = client_address(address);
    if (stopping_) {
      ::close(fd);
      continue;
    }
    if (!clients_.admit(client)) {
      // This client holds its share of connections already: told so, best effort, and closed.
      static constexpr std::string_view kTooMany =
          "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nContent-Length: 57\r\n"
          "Connection: close\r\n\r\n{\"error\":\"too many connections from this client address\"}";
      [[maybe_unused]] const ssize_t n = ::send(fd, kTooMany.data(), kTooMany.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      ::close(fd);
      continue;
    }
    // At the global cap a new client still gets in: the longest idle connection makes room for it.
    if (open_.fetch_add(1, std::memory_order_relaxed) >= options_.max_connections && !evict_oldest_idle(loop)) {
      ::close(fd);
      forget(client);
      continue;
    }
    const int yes = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
    // Whichever loop the kernel wakes accepts; the connections are dealt to the loops in turn, so that a
    // burst accepted by one loop is still served by all.
    Loop& owner = *loops_[next_loop_.fetch_add(1, std::memory_order_relaxed) % loops_.size()];
    if (&owner == &loop) {
      adopt(loop, fd, client);
    } else {
      {
        std::lock_guard lock(owner.returned_mutex);
        owner.incoming.emplace_back(fd, client);
      }
      owner.wake_up();
    }
  }
}

// Marks this loop's connection that has waited longest between requests (nothing being read, written or
// served), if there is one, to be closed after the current events.
bool Transport::evict_oldest_idle(Loop& loop) {
  Connection* oldest = nullptr;
  for (const auto& c : loop.connections) {
    if (c->evicted || c->owner != Owner::loop || !c->between_requests() || c->unsent() || c->unparsed()) continue;
    if (oldest == nullptr || c->last_active < oldest->last_active) oldest = c.get();
  }
  if (oldest == nullptr) return false;
  oldest->evicted = true;
  ++loop.evicted;
  return true;
}

// Serves a new connection on `loop` (`open_` and clients_ count it already).
void Transport::adopt(Loop& loop, int fd, const ClientAddress& client) {
  auto c = std::make_unique<Connection>(fd, client, &loop, this);
  c->last_active = c->head_started = loop.now;
  if (stopping_ || !watch(loop, *c)) {
    ::close(fd);
    forget(client);
    return;
  }
  c->index = loop.connections.size();
  loop.connections.push_back(std::move(c));
}

// A connection is readable or writable (edge-triggered: read until the socket is empty) or was handed
// back by a worker (`events` 0).
void Transport::on_event(Loop& loop, Connection& c, std::uint32_t events) {
  if (c.evicted) return;  // closed after this batch of events
  if ((events & EPOLLERR) != 0) {
    close_connection(loop, c);
    return;
  }
  if (c.phase == Phase::lingering) {
    linger(loop, c);
    return;
  }
  const bool hangup = (events & (EPOLLRDHUP | EPOLLHUP)) != 0;
  bool more = (events & EPOLLIN) != 0 || hangup || c.read_paused;
  for (;;) {
    if (!read_available(loop, c, more, hangup)) {
      close_connection(loop, c);
      return;
    }
    bool stalled = false;
    try {
      stalled = process(c);
    } catch (...) {  // out of memory: this connection ends, the others go on
      close_connection(loop, c);
      return;
    }
    if (c.owner == Owner::leaving) {
      hand_off(loop, c);
      return;
    }
    // A client that closed its side gets the answers to what it sent, then the connection ends.
    if (c.peer_closed && (!c.unparsed() || !c.unsent())) {
      c.closing = true;
      c.stop_reading();
    }
    if (!flush(c)) {
      close_connection(loop, c);
      return;
    }
    if (c.closing && c.phase != Phase::draining && !c.unsent()) {
      end_connection(loop, c);
      return;
    }
    if (stalled && c.out.empty()) continue;  // the answers are written: parse the requests that waited
    if (!more) return;
  }
}

// One read when `more` says the socket may have data and `in` has room; `more` becomes whether another
// read may find more. False when the connection broke.
bool Transport::read_available(Loop& loop, Connection& c, bool& more, bool hangup) {
  if (!more || c.peer_closed) {
    more = false;
    return true;
  }
  if (c.in.size() - c.in_pos >= kMaxBufferedInput) {
    c.read_paused = true;
    more = false;
    return true;
  }
  c.read_paused = false;
  std::size_t got = 0;
  switch (read_step(c.fd, c.in, loop.buffer.get(), kReadBytes, &got)) {
    case Io::done:
      c.last_active = loop.now;
      // A short read emptied the socket, and data arriving later brings a new event; after a hangup
      // reading goes on to the end of the input.
      more = got == kReadBytes || hangup;
      return true;
    case Io::closed:
      c.peer_closed = true;
      more = false;
      return true;
    case Io::again:
      more = false;
      return true;
    case Io::failed:
      break;
  }
  return false;
}

// Parses and answers the buffered requests in order. Returns true when it stopped because too many
// answers wait to be written.
bool Transport::process(Connection& c) {
  bool stalled = false;
  while (!c.parse_failed && c.owner == Owner::loop && c.unparsed() && (!c.closing || c.phase == Phase::draining)) {
    if (c.out.size() - c.out_pos > kMaxPendingOutput) {
      stalled = true;
      break;
    }
    execute(c);
    const http_errno error = HTTP_PARSER_ERRNO(&c.parser);
    if (error == HPE_PAUSED) {
      http_parser_pause(&c.parser, 0);
      const Event event = std::exchange(c.event, Event::none);
      if (event == Event::headers) {
        headers_complete(c);
      } else if (event == Event::message && !c.answered) {
        complete_request(c, true);
      }
    } else if (error != HPE_OK) {
      parse_error(c);
    }
  }
  compact(c);
  return stalled;
}

// Writes what the socket takes of `out`; false when the connection broke (EPOLLOUT brings the rest).
bool Transport::flush(Connection& c) {
  if (c.unsent()) {
    const std::size_t before = c.out_pos;
    const Io io = write_step(c.fd, c.out, c.out_pos);
    if (io == Io::failed) return false;
    if (c.out_pos > before) c.last_active = c.loop->now;  // a slow reader that reads is not quiet
    if (io == Io::again) return true;
  }
  c.out.clear();
  c.out_pos = 0;
  if (c.out.capacity() > kKeptCapacity) std::string().swap(c.out);
  return true;
}

void Transport::close_connection(Loop& loop, Connection& c) {
  if (c.fd >= 0) {
    // Taken out of the loop's epoll set before closing: closing alone leaves it there while another copy of
    // the descriptor lives on (a child process between fork and exec holds one), and an event would then
    // name the destroyed connection.
    ::epoll_ctl(loop.epoll, EPOLL_CTL_DEL, c.fd, nullptr);
    ::close(c.fd);
    forget(c.client);
    release_body(c);
  }
  const std::size_t i = c.index;
  std::swap(loop.connections[i], loop.connections.back());
  loop.connections[i]->index = i;
  loop.connections.pop_back();  // destroys c
}

// Closes a connection whose last answer is written, or lingers first (should_linger()) for up to
// kLingerTimeout, the sweep's limit.
void Transport::end_connection(Loop& loop, Connection& c) {
  if (!should_linger(c) || ::shutdown(c.fd, SHUT_WR) != 0) {
    close_connection(loop, c);
    return;
  }
  c.enter(Phase::lingering);
  c.drained = 0;
  c.last_active = loop.now;
  c.in.clear();
  c.in_pos = 0;
  linger(loop, c);
}

void Transport::linger(Loop& loop, Connection& c) {
  if (linger_step(c.fd, loop.buffer.get(), kReadBytes, c.drained, kDrainBytes) == Io::done) close_connection(loop, c);
}

void Transport::hand_off(Loop& loop, Connection& c) {
  ::epoll_ctl(loop.epoll, EPOLL_CTL_DEL, c.fd, nullptr);
  c.owner = Owner::worker;  // before the worker can start
  try {
    workers_.submit([this, &c] { serve_away(c); });
  } catch (...) {  // no thread could be started
    c.owner = Owner::loop;
    close_connection(loop, c);
  }
}

void Transport::take_returned(Loop& loop) {
  std::vector<Connection*> back;
  std::vector<std::pair<int, ClientAddress>> fresh;
  {
    std::lock_guard lock(loop.returned_mutex);
    back.swap(loop.returned);
    fresh.swap(loop.incoming);
  }
  for (const auto& [fd, client] : fresh) adopt(loop, fd, client);
  for (Connection* c : back) {
    c->owner = Owner::loop;
    c->last_active = loop.now;
    if (!watch(loop, *c)) {
      close_connection(loop, *c);
      continue;
    }
    on_event(loop, *c, 0);  // requests already buffered; the socket's own data brings an event
  }
}

// Once a second: connections quiet for too long are closed, and accepting resumes after a pause.
void Transport::sweep(Loop& loop) {
  if (!loop.listening && !stopping_ && loop.accept_paused_until != Clock::time_point{} &&
      loop.now >= loop.accept_paused_until) {
    epoll_event e{};
    e.events = EPOLLIN | EPOLLEXCLUSIVE;
    e.data.ptr = &listener_tag;
    loop.listening = ::epoll_ctl(loop.epoll, EPOLL_CTL_ADD, listener_, &e) == 0;
    loop.accept_paused_until = loop.listening ? Clock::time_point{} : loop.now + 1s;
  }
  for (std::size_t i = loop.connections.size(); i-- > 0;) {
    Connection& c = *loop.connections[i];
    if (c.owner == Owner::worker) continue;
    const auto quiet = loop.now - c.last_active;
    const bool writing = c.unsent();
    const bool reading = c.in_request() || c.phase == Phase::stopped;
    // A request's head must arrive whole within header_timeout however it trickles in, and so must a new
    // connection's first request start (slowloris).
    const bool head_late = c.reading_head() && loop.now - c.head_started > options_.header_timeout;
    if ((c.phase == Phase::lingering && quiet > kLingerTimeout) || (writing && quiet > kWriteTimeout) || head_late ||
        (!writing && reading && quiet > kReadTimeout) || (!writing && !reading && quiet > kIdleTimeout))
      close_connection(loop, c);
  }
}

// While stopping: connections between requests are closed. A request that reached the socket before the
// stop but has not been read yet is read and answered first.
void Transport::close_idle(Loop& loop) {
  for (std::size_t i = loop.connections.size(); i-- > 0;) {
    Connection& c = *loop.connections[i];
    const bool lingering = c.phase == Phase::lingering;
    if (c.owner == Owner::worker || !(lingering || (c.between_requests() && !c.unsent() && !c.unparsed())))
      continue;
    char byte;
    if (!lingering && c.fd >= 0 && ::recv(c.fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) > 0) {
      // May close c or hand it to a worker; a connection moved into slot i has been visited already.
      on_event(loop, c, EPOLLIN);
      continue;
    }
    close_connection(loop, c);
  }
}

}  // namespace logclf::server
