// The HTTP/1.1 transport of `logclf serve`: event loops (epoll, one per hardware thread) accept connections,
// parse requests with http-parser and answer those with a small body inline; requests that may block a
// loop (bodies read as they arrive, streamed answers, large bodies, micro-batched classification) are
// served by a bounded pool of threads with blocking I/O and then handed back. Everything the service
// answers comes from Service (service.h).
//
// The loops use epoll directly rather than libevent or libuv (both packaged in Debian): the transport needs
// only accept, read, write and a once-a-second sweep, and handing a connection to a blocking worker thread
// and back is simplest on plain descriptors. Parsing (http-parser), multipart bodies (multipart.h) and
// compression (zlib, in http_util.cc) are not written here.
#include <http_parser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "logclf/encoder.h"
#include "logclf/server.h"
#include "server/client_limits.h"
#include "server/http_util.h"
#include "server/multipart.h"
#include "server/service.h"
#include "server/workers.h"

namespace logclf {

namespace {

using namespace server::http;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr std::size_t kMaxFormParts = 16;
// After a body has been refused (too large, a bad line), up to this much of the rest is read and dropped.
// A client that writes its whole body before reading (most do) would otherwise find the connection reset,
// its receive buffer and the answer in it discarded, when the server closes with unread data (the
// "lingering close" of other servers). Bounded, so a refused endless body costs little.
constexpr std::size_t kDrainBytes = std::size_t{1} << 20;
// The request line and headers together (431 above), and the request target alone (414 above: the limit
// of the HTTP library this transport replaces).
constexpr std::size_t kMaxHeaderBytes = 64 << 10;
constexpr std::size_t kMaxTargetBytes = 8 << 10;
// Bodies up to this size, of declared length, are read and answered on the event loop; larger ones on a
// worker thread, so that a loop never spends long on one request while others wait.
constexpr std::uint64_t kInlineBodyBytes = 64 << 10;
// A connection's answers not yet written beyond which its pipelined requests wait, and its unparsed input
// beyond which it is not read: what one connection can make the server hold.
constexpr std::size_t kMaxPendingOutput = 1 << 20;
constexpr std::size_t kMaxBufferedInput = 1 << 20;
constexpr std::size_t kReadBytes = 64 << 10;
// Buffers grown beyond this by one large request are given back once it is done.
constexpr std::size_t kKeptCapacity = 256 << 10;
// A body of unknown length (chunked, or compressed) reserves the body budget in steps of this size.
constexpr std::uint64_t kReserveStep = 1 << 20;
constexpr int kBacklog = 1024;
constexpr auto kIdleTimeout = 60s;   // a kept-alive connection with no request
constexpr auto kReadTimeout = 30s;   // a request (line, headers or body) that stops arriving
constexpr auto kWriteTimeout = 30s;  // a client that stops reading its answer
constexpr auto kLingerTimeout = 2s;  // see Transport::end_connection()
// Text responses above this size are gzip-compressed for clients that accept it.
constexpr std::size_t kGzipMinBytes = 1024;

// ---- connections ------------------------------------------------------------------------------------

struct Loop;
class Transport;

// What the parser's callbacks stopped at (they pause it, so that the request is handled between calls of
// http_parser_execute() and never inside one).
enum class Event { none, headers, message };

// Where a request's body goes.
enum class Body {
  buffer,  // into Request::body or, for multipart/form-data, Request::files
  sink,    // to the service's sink as it arrives (Request::read_body)
  drain,   // nowhere: the request has been answered
};

struct Connection final : server::MultipartParser::Handler {
  Connection(int socket, const server::ClientAddress& address, Loop* owner, Transport* server)
      : fd(socket), client(address), loop(owner), transport(server) {
    http_parser_init(&parser, HTTP_REQUEST);
    parser.data = this;
  }

  // MultipartParser::Handler: parts into Request::files, or the part named "file" to the sink.
  bool part(const server::PartHeaders& headers) override {
    if (body == Body::sink) {
      in_file = headers.name == "file";
      return true;
    }
    if (request.files.size() == kMaxFormParts) {
      too_many_parts = true;
      return false;
    }
    request.files.push_back({headers.name, headers.filename, headers.content_type, {}});
    return true;
  }
  bool data(std::string_view piece) override {
    if (body == Body::sink) {
      if (!in_file || (*sink)(piece)) return true;
      sink_refused = true;
      return false;
    }
    request.files.back().content.append(piece);
    return true;
  }

  // Clears what belonged to the previous request.
  void begin_request() {
    request.method.clear();
    request.path.clear();
    request.query.clear();
    request.headers.clear();
    if (request.body.capacity() > kKeptCapacity) std::string().swap(request.body);
    request.body.clear();
    request.multipart = false;
    request.files.clear();
    request.read_body = nullptr;
    target.clear();
    header_bytes = 0;
    header_value = false;
    in_request = true;
    headers_done = message_done = answered = false;
    body = Body::buffer;
    body_bytes = drained = 0;
    multipart.reset();
    in_file = too_many_parts = sink_refused = body_failed = false;
    streams = false;
    inflater.reset();
  }

  int fd;
  server::ClientAddress client;
  Loop* loop;
  Transport* transport;
  std::size_t index = 0;  // in loop->connections
  http_parser parser;
  RequestHeadChecker head_check;  // what http-parser lets through in a request head
  std::string in;  // received, parsed from in_pos
  std::size_t in_pos = 0;
  std::string out;  // to send, from out_pos
  std::size_t out_pos = 0;
  Clock::time_point last_active;
  bool requested = false;           // a request has begun on it
  Clock::time_point head_started;   // of the current request, or when it was accepted

  // The request being read.
  server::Request request;
  std::string target;
  std::size_t header_bytes = 0;
  bool header_value = false;  // the last header callback was for a value
  int limit_status = 0;       // 414 or 431 when the callbacks refused the request line or headers
  Event event = Event::none;
  bool in_request = false;    // from its first byte to its end
  bool headers_done = false;
  bool message_done = false;
  bool answered = false;      // its response is written or queued
  Clock::time_point start;
  bool keep_alive = true;
  bool http10 = false;
  bool head = false;
  bool gzip_ok = false;
  bool streams = false;  // its route reads the body as it arrives

  Body body = Body::buffer;
  std::uint64_t body_bytes = 0;
  std::size_t drained = 0;
  bool draining = false;  // answered before its body's end: read until then (up to kDrainBytes), then close
  std::optional<server::MultipartParser> multipart;
  std::optional<BodyInflater> inflater;  // a gzip or deflate body is decompressed as it arrives
  std::uint64_t reserved = 0;            // bytes of the server's body budget this request holds
  const server::ChunkSink* sink = nullptr;
  bool in_file = false;
  bool too_many_parts = false;
  bool sink_refused = false;
  bool body_failed = false;  // the body could not be passed on (an exception)

  bool closing = false;      // no more requests: close once `out` is written (and a drain is done)
  bool peer_closed = false;  // the client closed its side
  bool parse_failed = false;
  bool to_worker = false;    // to be handed to a worker thread
  bool away = false;         // served by a worker thread: the loop leaves it alone
  bool lingering = false;    // answered and shut for writing: what still arrives is dropped, then it closes
  bool read_paused = false;  // not read while `in` holds kMaxBufferedInput
  bool evicted = false;      // closed to make room at the connection cap, once the current events are handled
  std::optional<server::Response> pending;  // a streamed response for the worker to write
};

// Marks for the epoll events that are not connections.
char listener_mark;
char wake_mark;

struct Loop {
  int epoll = -1;
  int wake = -1;  // eventfd: stop(), or connections handed back by workers
  bool listening = false;
  Clock::time_point accept_paused_until{};
  std::size_t evicted = 0;  // connections marked evicted, closed after the events of one epoll_wait
  Clock::time_point now;
  std::vector<std::unique_ptr<Connection>> connections;
  std::mutex returned_mutex;
  std::vector<Connection*> returned;  // by worker threads
  std::vector<std::pair<int, server::ClientAddress>> incoming;  // sockets accepted by another loop, for this one
  std::unique_ptr<char[]> buffer = std::make_unique<char[]>(kReadBytes);

  ~Loop() {
    if (epoll >= 0) ::close(epoll);
    if (wake >= 0) ::close(wake);
  }
  void wake_up() const {
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(wake, &one, sizeof one);
  }
};

bool wait_for(int fd, short events, std::chrono::milliseconds timeout) {
  pollfd p{fd, events, 0};
  for (;;) {
    const int n = ::poll(&p, 1, static_cast<int>(timeout.count()));
    if (n > 0) return true;
    if (n == 0 || errno != EINTR) return false;
  }
}

// Writes all of `iov` on a non-blocking socket, waiting for it to drain (a worker thread's write).
bool send_all(int fd, iovec* iov, std::size_t count) {
  while (count > 0) {
    msghdr message{};
    message.msg_iov = iov;
    message.msg_iovlen = count;
    const ssize_t n = ::sendmsg(fd, &message, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if ((errno == EAGAIN || errno == EWOULDBLOCK) && wait_for(fd, POLLOUT, kWriteTimeout)) continue;
      return false;
    }
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
  return true;
}

bool send_all(int fd, std::string_view data) {
  iovec iov{const_cast<char*>(data.data()), data.size()};
  return data.empty() || send_all(fd, &iov, 1);
}

// ---- the transport ----------------------------------------------------------------------------------

class Transport {
 public:
  Transport(Classifier classifier, ServeOptions o)
      : options_(std::move(o)),
        batching_(options_.batching == MicroBatching::always ||
                  (options_.batching == MicroBatching::automatic && classifier.encoder_kind() != kLexicalEncoder)),
        service_(std::move(classifier), options_),
        clients_(std::max(1, options_.max_connections_per_client)),
        workers_(options_.threads > 0 ? static_cast<std::size_t>(options_.threads)
                                      : std::max<std::size_t>(32, 4 * std::max(1u, std::thread::hardware_concurrency()))) {
    const unsigned loops = std::max(1u, std::thread::hardware_concurrency());
    for (unsigned i = 0; i < loops; ++i) {
      auto loop = std::make_unique<Loop>();
      loop->epoll = ::epoll_create1(EPOLL_CLOEXEC);
      loop->wake = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
      epoll_event e{};
      e.events = EPOLLIN;
      e.data.ptr = &wake_mark;
      if (loop->epoll < 0 || loop->wake < 0 || ::epoll_ctl(loop->epoll, EPOLL_CTL_ADD, loop->wake, &e) != 0)
        throw Error(std::string("cannot create the server's event loop: ") + std::strerror(errno));
      loops_.push_back(std::move(loop));
    }
    settings_.on_message_begin = on_message_begin;
    settings_.on_url = on_url;
    settings_.on_header_field = on_header_field;
    settings_.on_header_value = on_header_value;
    settings_.on_headers_complete = on_headers_complete;
    settings_.on_body = on_body;
    settings_.on_message_complete = on_message_complete;
  }

  ~Transport() {
    stop();
    close_listener();
  }

  int bind() {
    std::lock_guard lock(bind_mutex_);
    if (listener_ >= 0) return port_;
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    const std::string where = "cannot listen on " + options_.host + " port " + std::to_string(options_.port);
    if (const int rc = ::getaddrinfo(options_.host.empty() ? nullptr : options_.host.c_str(),
                                     std::to_string(options_.port).c_str(), &hints, &found);
        rc != 0)
      throw Error(where + ": " + ::gai_strerror(rc));
    int fd = -1;
    int error = 0;
    for (const addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
      fd = ::socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) {
        error = errno;
        continue;
      }
      // SO_REUSEADDR only: with SO_REUSEPORT a second server on the same port would start and silently take
      // half the connections instead of failing.
      const int yes = 1;
      ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
      if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0 || ::listen(fd, kBacklog) != 0) {
        error = errno;
        ::close(fd);
        fd = -1;
      }
    }
    ::freeaddrinfo(found);
    if (fd < 0) throw Error(where + (error != 0 ? std::string(": ") + std::strerror(error) : ""));
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&address)->sin6_port
                                                : reinterpret_cast<sockaddr_in*>(&address)->sin_port);
    listener_ = fd;
    if (stopping_ && !shut_down_.exchange(true)) ::shutdown(fd, SHUT_RDWR);
    return port_;
  }

  void run() {
    if (listener_ < 0) bind();
    if (!stopping_) {
      for (auto& loop : loops_) {
        epoll_event e{};
        e.events = EPOLLIN | EPOLLEXCLUSIVE;
        e.data.ptr = &listener_mark;
        if (::epoll_ctl(loop->epoll, EPOLL_CTL_ADD, listener_, &e) != 0)
          throw Error(std::string("cannot accept connections: ") + std::strerror(errno));
        loop->listening = true;
      }
    }
    std::vector<std::thread> threads;
    for (std::size_t i = 1; i < loops_.size(); ++i) threads.emplace_back([this, i] { run_loop(*loops_[i]); });
    run_loop(*loops_[0]);
    for (std::thread& t : threads) t.join();
    for (auto& loop : loops_) {  // dealt to a loop that had ended
      for (const auto& [fd, client] : loop->incoming) {
        ::close(fd);
        forget(client);
      }
      loop->incoming.clear();
    }
    workers_.stop();
    close_listener();
  }

  // Stops accepting (shutting the listening socket down makes new connections fail at once) and wakes
  // the loops, which close idle connections and end once the requests in flight are answered.
  void stop() {
    stopping_ = true;
    {
      std::lock_guard lock(bind_mutex_);
      if (listener_ >= 0 && !shut_down_.exchange(true)) ::shutdown(listener_, SHUT_RDWR);
    }
    for (auto& loop : loops_) loop->wake_up();
  }

 private:
  void close_listener() {
    std::lock_guard lock(bind_mutex_);
    shut_down_ = true;
    if (listener_ >= 0) ::close(listener_);
    listener_ = -1;
  }

  // ---- parser callbacks (inside http_parser_execute: they only record) ----

  static Connection& of(http_parser* p) { return *static_cast<Connection*>(p->data); }

  static int on_message_begin(http_parser* p) {
    Connection& c = of(p);
    c.transport->release_body(c);
    c.begin_request();
    c.requested = true;
    c.head_started = Clock::now();
    return 0;
  }
  static int on_url(http_parser* p, const char* at, std::size_t n) {
    Connection& c = of(p);
    c.header_bytes += n;
    c.target.append(at, n);
    if (c.target.size() > kMaxTargetBytes) {
      c.limit_status = 414;
      return 1;
    }
    return c.header_bytes > kMaxHeaderBytes ? (c.limit_status = 431, 1) : 0;
  }
  static int on_header_field(http_parser* p, const char* at, std::size_t n) {
    Connection& c = of(p);
    if ((c.header_bytes += n) > kMaxHeaderBytes) return c.limit_status = 431, 1;
    if (c.headers_done) return 0;  // trailers of a chunked body: not used
    if (c.header_value || c.request.headers.empty()) c.request.headers.emplace_back();
    c.header_value = false;
    c.request.headers.back().first.append(at, n);
    return 0;
  }
  static int on_header_value(http_parser* p, const char* at, std::size_t n) {
    Connection& c = of(p);
    if ((c.header_bytes += n) > kMaxHeaderBytes) return c.limit_status = 431, 1;
    if (c.headers_done) return 0;
    c.header_value = true;
    c.request.headers.back().second.append(at, n);
    return 0;
  }
  static int on_headers_complete(http_parser* p) {
    Connection& c = of(p);
    c.headers_done = true;
    c.event = Event::headers;
    http_parser_pause(p, 1);
    return 0;
  }
  static int on_message_complete(http_parser* p) {
    Connection& c = of(p);
    c.message_done = true;
    c.in_request = false;
    c.head_check.reset();
    c.draining = false;
    c.event = Event::message;
    http_parser_pause(p, 1);
    return 0;
  }
  static int on_body(http_parser* p, const char* at, std::size_t n) {
    Connection& c = of(p);
    try {
      return c.transport->body_piece(c, {at, n}) ? 0 : 1;
    } catch (...) {
      c.body_failed = true;
      return 1;
    }
  }

  void execute(Connection& c);
  bool body_piece(Connection& c, std::string_view piece);
  bool take_body(Connection& c, std::string_view piece);
  bool reserve_body(Connection& c, std::uint64_t bytes);
  void release_body(Connection& c);
  void headers_complete(Connection& c);
  void complete_request(Connection& c, bool on_loop);
  void respond(Connection& c, server::Response&& response, bool close);
  void refuse(Connection& c, int status, std::string_view message);
  void parse_error(Connection& c);
  void observe(const Connection& c, int status, bool failed);
  server::Response handle(Connection& c);
  static void compact(Connection& c);

  // Event loop side.
  void run_loop(Loop& loop);
  void accept_all(Loop& loop);
  bool evict_oldest_idle(Loop& loop);
  void adopt(Loop& loop, int fd, const server::ClientAddress& client);
  // A connection's socket is closed: it no longer counts, for the server or for its client.
  void forget(const server::ClientAddress& client) {
    --open_;
    clients_.release(client);
  }
  void on_event(Loop& loop, Connection& c, std::uint32_t events);
  bool process(Connection& c);
  void hand_off(Loop& loop, Connection& c);
  bool flush(Connection& c);
  void close_connection(Loop& loop, Connection& c);
  void end_connection(Loop& loop, Connection& c);
  void linger(Loop& loop, Connection& c);
  void take_returned(Loop& loop);
  void sweep(Loop& loop);
  void close_idle(Loop& loop);

  // Worker side.
  void serve_away(Connection& c);
  bool serve_request(Connection& c);
  bool advance(Connection& c);
  bool read_blocking(Connection& c);
  bool flush_blocking(Connection& c);
  static void linger_blocking(Connection& c);
  server::BodyRead read_body(Connection& c, const server::ChunkSink& sink);
  void stream_response(Connection& c, server::Response&& response);

  ServeOptions options_;
  bool batching_;  // the service shares encoder batches between requests: they wait for each other
  server::Service service_;
  http_parser_settings settings_{};
  std::vector<std::unique_ptr<Loop>> loops_;
  server::ClientLimits clients_;
  server::Workers workers_;
  std::mutex bind_mutex_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> shut_down_{false};
  std::atomic<int> open_{0};
  std::atomic<std::uint64_t> buffered_{0};  // body bytes reserved by requests (ServeOptions::max_buffered_bodies)
  std::atomic<std::size_t> next_loop_{0};
};


// ---- requests (on a loop or a worker) ---------------------------------------------------------------

// A piece of the current request's body, as the parser decodes it; false stops the parser.
bool Transport::body_piece(Connection& c, std::string_view piece) {
  if (!c.inflater || c.body == Body::drain) return take_body(c, piece);
  bool taken = true;
  const std::string problem = c.inflater->feed(piece, [&](std::string_view plain) {
    taken = take_body(c, plain);
    return taken && c.body != Body::drain;  // a refused body is drained as it came, without decompressing it
  });
  if (problem.empty()) return taken;
  if (c.body == Body::sink) {
    c.body_failed = true;  // the service reads a failed body
    return false;
  }
  refuse(c, problem.starts_with("malformed") ? 400 : 413, problem);
  return true;
}

bool Transport::take_body(Connection& c, std::string_view piece) {
  switch (c.body) {
    case Body::drain:
      return (c.drained += piece.size()) <= kDrainBytes;
    case Body::sink:
      if (c.multipart) {
        if (c.multipart->feed(piece, c)) return true;
        if (!c.sink_refused) return false;  // malformed: the read fails
      } else if ((*c.sink)(piece)) {
        return true;
      }
      c.sink_refused = true;
      c.body = Body::drain;
      return true;
    case Body::buffer:
      if ((c.body_bytes += piece.size()) > options_.max_body) {
        refuse(c, 413, transport_error(413, options_.max_body));
      } else if (c.body_bytes > c.reserved && !reserve_body(c, std::max<std::uint64_t>(c.body_bytes, c.reserved + kReserveStep))) {
        // refused: the server holds too many bodies (a chunked or compressed body grows past its reservation)
      } else if (!c.multipart) {
        c.request.body.append(piece);
      } else if (!c.multipart->feed(piece, c)) {
        if (c.too_many_parts) {
          refuse(c, 413, "more than " + std::to_string(kMaxFormParts) + " multipart/form-data parts");
        } else {
          refuse(c, 400, "malformed multipart/form-data body");
        }
      }
      return true;
  }
  return false;
}

// Parses what `in` holds from `in_pos`, up to the next pause (headers or message complete) or error. Bytes
// of a request head are also checked by RequestHeadChecker; what it refuses is made a parse error.
void Transport::execute(Connection& c) {
  const bool head = !c.in_request || !c.headers_done;
  const std::size_t begin = c.in_pos;
  c.in_pos += http_parser_execute(&c.parser, &settings_, c.in.data() + c.in_pos, c.in.size() - c.in_pos);
  const http_errno error = HTTP_PARSER_ERRNO(&c.parser);
  if (head && (error == HPE_OK || error == HPE_PAUSED) &&
      !c.head_check.feed(std::string_view(c.in).substr(begin, c.in_pos - begin))) {
    c.event = Event::none;
    c.parser.http_errno = HPE_INVALID_HEADER_TOKEN;
  }
}

// The request line and headers are read: answers what needs no body, refuses what cannot be served, and
// decides who reads the body.
void Transport::headers_complete(Connection& c) {
  c.start = Clock::now();
  server::Request& r = c.request;
  r.method = http_method_str(static_cast<http_method>(c.parser.method));
  parse_target(c.target, r);
  c.keep_alive = http_should_keep_alive(&c.parser) != 0 && c.parser.upgrade == 0;
  c.http10 = c.parser.http_major == 1 && c.parser.http_minor == 0;
  if (const std::string problem = framing_problem(r, c.http10); !problem.empty()) {
    // Where this body ends is unclear, so nothing after the head can be trusted: answer, read no more, close.
    server::Response error = server::Service::error(400, problem);
    service_.add_cors_headers(r.header("Origin"), error);
    respond(c, std::move(error), true);
    c.parse_failed = true;
    c.draining = false;
    return;
  }
  c.head = c.parser.method == HTTP_HEAD;
  c.gzip_ok = accepts_gzip(r.header("Accept-Encoding"));
  const bool chunked = (c.parser.flags & F_CHUNKED) != 0;
  const std::uint64_t length = (c.parser.flags & F_CONTENTLENGTH) != 0 ? c.parser.content_length : 0;
  const bool has_body = chunked || length > 0;
  // A client that sent "Expect: 100-continue" waits for it before sending the body.
  const bool expects = has_body && equal_ignoring_case(trim(r.header("Expect")), "100-continue");

  // Everything that needs no body is answered before the body is read: GET requests, and refusals
  // (unknown path, wrong method, missing key), so that a refused upload is not read at all.
  if (auto early = service_.answer_before_body(r)) {
    respond(c, std::move(*early), has_body);  // an unread body would be taken for the next request
    c.body = Body::drain;
    c.draining = has_body && !expects;
    return;
  }
  bool unsupported = false;
  if (const auto coding = content_coding(r.header("Content-Encoding"), unsupported); coding && has_body) {
    c.inflater.emplace(*coding == "gzip");
  } else if (unsupported) {
    refuse(c, 415, "unsupported Content-Encoding '" + std::string(trim(r.header("Content-Encoding"))) +
                       "': send the body as it is, or gzip or deflate compressed");
    c.draining = !expects;
    return;
  }
  const std::size_t route = server::Service::route_of(r.path);
  c.streams = route < server::Service::routes().size() && server::Service::routes()[route].streams_body;
  // A streamed body (NDJSON) is read piece by piece while it is answered: its size has no limit.
  if (length > options_.max_body && !c.streams) {
    refuse(c, 413, transport_error(413, options_.max_body));
    c.draining = !expects;
    return;
  }
  // A body read whole into memory counts against the server's budget for all of them (a streamed one is
  // read piece by piece and does not).
  if (!c.streams && !reserve_body(c, length)) {
    c.draining = !expects;
    return;
  }
  const std::string_view type = r.header("Content-Type");
  if (server::MultipartParser::is_form_data(type)) {
    const auto boundary = server::MultipartParser::boundary_of(type);
    if (!boundary) {
      refuse(c, 400, "malformed multipart/form-data body");
      c.draining = !expects;
      return;
    }
    c.multipart.emplace(*boundary);
    r.multipart = !c.streams;  // a streaming route gets the part named "file" as its body
  }
  if (expects) c.out += "HTTP/1.1 100 Continue\r\n\r\n";
  // Batched classification waits for other requests, and large bodies take long to read and classify:
  // neither may hold up a loop.
  // So do compressed bodies, whose size is known only once decompressed.
  if (c.streams || batching_ || chunked || length > kInlineBodyBytes || c.inflater) c.to_worker = true;
}

// The body is read: the answer, or a streamed one left for a worker when on a loop.
// Reserves `bytes` of the body budget for c's request in all (what it holds already included). Over the
// budget, the request is answered 503 with Retry-After and its body drained.
bool Transport::reserve_body(Connection& c, std::uint64_t bytes) {
  if (bytes <= c.reserved) return true;
  const std::uint64_t more = bytes - c.reserved;
  const std::uint64_t before = buffered_.fetch_add(more, std::memory_order_relaxed);
  // A request alone may always proceed (up to max_body), so a budget below max_body cannot refuse all.
  if (before + more > options_.max_buffered_bodies && before > c.reserved) {
    buffered_.fetch_sub(more, std::memory_order_relaxed);
    server::Response busy = server::Service::error(503, "the server holds too many request bodies right now; retry shortly");
    busy.headers.emplace_back("Retry-After", "1");
    service_.add_cors_headers(c.request.header("Origin"), busy);
    respond(c, std::move(busy), true);
    c.body = Body::drain;
    c.draining = c.headers_done && !c.message_done;
    return false;
  }
  c.reserved = bytes;
  return true;
}

// The request is answered: its body's memory goes back, to the budget and to the system.
void Transport::release_body(Connection& c) {
  const bool large = c.request.body.capacity() > kKeptCapacity || c.reserved > kKeptCapacity;
  if (c.request.body.capacity() > kKeptCapacity) std::string().swap(c.request.body);
  c.request.body.clear();
  c.request.files.clear();
  c.request.files.shrink_to_fit();
  buffered_.fetch_sub(c.reserved, std::memory_order_relaxed);
  c.reserved = 0;
  // Parsing a large body leaves many small blocks in the allocator's arenas; without this a burst of large
  // requests stays resident long after it was answered.
  if (large) ::malloc_trim(0);
}

void Transport::complete_request(Connection& c, bool on_loop) {
  if (c.inflater && !c.inflater->finished()) {
    refuse(c, 400, std::string("the ") + (c.inflater->gzip() ? "gzip" : "deflate") + " body ends early");
    return;
  }
  if (c.multipart && !c.multipart->complete()) {
    refuse(c, 400, "malformed multipart/form-data body");
    return;
  }
  server::Response response = handle(c);
  release_body(c);
  if (!response.stream) {
    respond(c, std::move(response), false);
  } else if (on_loop) {
    c.pending = std::move(response);
    c.to_worker = true;
  } else {
    stream_response(c, std::move(response));
  }
}

server::Response Transport::handle(Connection& c) {
  try {
    return service_.handle(c.request);
  } catch (...) {
    server::Response error = server::Service::error(500, "internal error");
    error.headers.emplace_back("Connection", "close");
    return error;
  }
}

// Queues `response` on the connection. `close`: the connection ends after it (its body was not read);
// it also does when the client or the service asks for it, or the server is stopping.
void Transport::respond(Connection& c, server::Response&& response, bool close) {
  close = close || c.closing || !c.keep_alive || stopping_.load(std::memory_order_relaxed);
  std::string& out = c.out;
  append_status_line(out, response.status);
  for (const auto& [key, value] : response.headers) {
    if (equal_ignoring_case(key, "Connection")) {
      close = close || equal_ignoring_case(trim(value), "close");
      continue;
    }
    out.append(key).append(": ").append(value).append("\r\n");
  }
  if (!response.content_type.empty()) out.append("Content-Type: ").append(response.content_type).append("\r\n");
  const bool bodyless = response.status < 200 || response.status == 204 || response.status == 304;
  std::string_view body = response.body;
  std::optional<std::string> compressed;
  if (!bodyless) {
    if (body.size() >= kGzipMinBytes && compressible(response.content_type)) {
      out += "Vary: Accept-Encoding\r\n";
      if (c.gzip_ok && !c.head && (compressed = gzip(body)) && compressed->size() < body.size()) {
        body = *compressed;
        out += "Content-Encoding: gzip\r\n";
      }
    }
    out += "Content-Length: ";
    append_number(out, body.size());
    out += "\r\n";
  }
  out.append("Date: ").append(http_date()).append("\r\n");
  if (close) {
    out += "Connection: close\r\n";
  } else if (c.http10) {
    out += "Connection: keep-alive\r\n";
  }
  out += "\r\n";
  if (!bodyless && !c.head) out += body;
  c.answered = true;
  if (close) c.closing = true;
  observe(c, response.status, false);
}

// Answers with a JSON error and Connection: close; the rest of the body is drained.
void Transport::refuse(Connection& c, int status, std::string_view message) {
  server::Response error = server::Service::error(status, message);
  service_.add_cors_headers(c.request.header("Origin"), error);
  respond(c, std::move(error), true);
  c.body = Body::drain;
  c.draining = c.headers_done && !c.message_done;
}

// The parser failed: the request is malformed (or over a limit), or a refused body went past kDrainBytes.
void Transport::parse_error(Connection& c) {
  c.parse_failed = true;
  c.closing = true;
  c.draining = false;
  // Requests on streaming routes are answered by the service, which reads a broken body as a failed read.
  if (c.answered || (c.streams && c.headers_done)) return;
  if (!c.in_request) {  // nothing of a new request was recognised
    c.request.method.clear();
    c.request.path.clear();
  }
  const int status = c.limit_status != 0 ? c.limit_status : 400;
  const std::string message = c.limit_status == 0 && c.headers_done ? "the request body could not be read completely"
                                                                     : transport_error(status, options_.max_body);
  server::Response error = server::Service::error(status, message);
  service_.add_cors_headers(c.request.header("Origin"), error);
  respond(c, std::move(error), true);
}

void Transport::observe(const Connection& c, int status, bool failed) {
  const double seconds = c.headers_done ? std::chrono::duration<double>(Clock::now() - c.start).count() : 0;
  service_.metrics().observe_request(server::Service::route_of(c.request.path), c.request.method, status, seconds,
                                     failed);
}

void Transport::compact(Connection& c) {
  if (c.in_pos == c.in.size()) {
    c.in.clear();
    c.in_pos = 0;
    if (c.in.capacity() > kKeptCapacity) std::string().swap(c.in);
  } else if (c.in_pos >= kReadBytes) {
    c.in.erase(0, c.in_pos);
    c.in_pos = 0;
  }
}

// ---- event loops ------------------------------------------------------------------------------------

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
      if (tag == &listener_mark) {
        accept_all(loop);
      } else if (tag == &wake_mark) {
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
    const server::ClientAddress client = server::client_address(address);
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
    if (c->evicted || c->away || c->lingering || c->in_request || c->draining || c->out_pos < c->out.size() ||
        c->in_pos < c->in.size())
      continue;
    if (oldest == nullptr || c->last_active < oldest->last_active) oldest = c.get();
  }
  if (oldest == nullptr) return false;
  oldest->evicted = true;
  ++loop.evicted;
  return true;
}

// Serves a new connection on `loop` (`open_` and clients_ count it already).
void Transport::adopt(Loop& loop, int fd, const server::ClientAddress& client) {
  auto c = std::make_unique<Connection>(fd, client, &loop, this);
  c->last_active = c->head_started = loop.now;
  epoll_event e{};
  e.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  e.data.ptr = c.get();
  if (stopping_ || ::epoll_ctl(loop.epoll, EPOLL_CTL_ADD, fd, &e) != 0) {
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
  if (c.lingering) {
    linger(loop, c);
    return;
  }
  const bool hangup = (events & (EPOLLRDHUP | EPOLLHUP)) != 0;
  bool more = (events & EPOLLIN) != 0 || hangup || c.read_paused;
  for (;;) {
    if (more && !c.peer_closed) {
      if (c.in.size() - c.in_pos >= kMaxBufferedInput) {
        c.read_paused = true;
        more = false;
      } else {
        c.read_paused = false;
        const ssize_t n = ::recv(c.fd, loop.buffer.get(), kReadBytes, 0);
        if (n > 0) {
          c.in.append(loop.buffer.get(), static_cast<std::size_t>(n));
          c.last_active = loop.now;
          // A short read emptied the socket, and data arriving later brings a new event; after a hangup
          // reading goes on to the end of the input.
          more = static_cast<std::size_t>(n) == kReadBytes || hangup;
        } else if (n == 0) {
          c.peer_closed = true;
          more = false;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
          more = false;
        } else if (errno != EINTR) {
          close_connection(loop, c);
          return;
        }
      }
    } else {
      more = false;
    }
    bool stalled = false;
    try {
      stalled = process(c);
    } catch (...) {  // out of memory: this connection ends, the others go on
      close_connection(loop, c);
      return;
    }
    if (c.to_worker) {
      hand_off(loop, c);
      return;
    }
    // A client that closed its side gets the answers to what it sent, then the connection ends.
    if (c.peer_closed && (c.in_pos == c.in.size() || c.out_pos == c.out.size())) {
      c.closing = true;
      c.draining = false;
    }
    if (!flush(c)) {
      close_connection(loop, c);
      return;
    }
    if (c.closing && !c.draining && c.out_pos == c.out.size()) {
      end_connection(loop, c);
      return;
    }
    if (stalled && c.out.empty()) continue;  // the answers are written: parse the requests that waited
    if (!more) return;
  }
}

// Parses and answers the buffered requests in order. Returns true when it stopped because too many
// answers wait to be written.
bool Transport::process(Connection& c) {
  bool stalled = false;
  while (!c.parse_failed && !c.to_worker && c.in_pos < c.in.size() && (!c.closing || c.draining)) {
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

// Writes what the socket takes of `out`; false when the connection broke.
bool Transport::flush(Connection& c) {
  while (c.out_pos < c.out.size()) {
    const ssize_t n = ::send(c.fd, c.out.data() + c.out_pos, c.out.size() - c.out_pos, MSG_NOSIGNAL);
    if (n > 0) {
      c.out_pos += static_cast<std::size_t>(n);
      c.last_active = c.loop->now;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);  // EPOLLOUT brings the rest
    }
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

// Closes a connection whose last answer is written. When the client may still be sending (its request
// was malformed, or refused with more of it unread), closing at once would make the kernel answer what
// arrives with a reset, which can discard the answer before the client reads it: the connection is shut
// for writing instead, and what still arrives is read and dropped until the client closes, kDrainBytes
// have come or kLingerTimeout has passed (the "lingering close" of other servers).
void Transport::end_connection(Loop& loop, Connection& c) {
  if (c.peer_closed || (!c.parse_failed && c.in_pos == c.in.size()) || ::shutdown(c.fd, SHUT_WR) != 0) {
    close_connection(loop, c);
    return;
  }
  c.lingering = true;
  c.drained = 0;
  c.last_active = loop.now;
  c.in.clear();
  c.in_pos = 0;
  linger(loop, c);
}

void Transport::linger(Loop& loop, Connection& c) {
  for (;;) {
    const ssize_t n = ::recv(c.fd, loop.buffer.get(), kReadBytes, 0);
    if (n > 0 && (c.drained += static_cast<std::size_t>(n)) <= kDrainBytes) continue;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    close_connection(loop, c);
    return;
  }
}

void Transport::hand_off(Loop& loop, Connection& c) {
  ::epoll_ctl(loop.epoll, EPOLL_CTL_DEL, c.fd, nullptr);
  c.to_worker = false;
  try {
    workers_.submit([this, &c] { serve_away(c); });
  } catch (...) {  // no thread could be started
    close_connection(loop, c);
    return;
  }
  c.away = true;
}

void Transport::take_returned(Loop& loop) {
  std::vector<Connection*> back;
  std::vector<std::pair<int, server::ClientAddress>> fresh;
  {
    std::lock_guard lock(loop.returned_mutex);
    back.swap(loop.returned);
    fresh.swap(loop.incoming);
  }
  for (const auto& [fd, client] : fresh) adopt(loop, fd, client);
  for (Connection* c : back) {
    c->away = false;
    c->last_active = loop.now;
    epoll_event e{};
    e.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    e.data.ptr = c;
    if (c->fd < 0 || ::epoll_ctl(loop.epoll, EPOLL_CTL_ADD, c->fd, &e) != 0) {
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
    e.data.ptr = &listener_mark;
    loop.listening = ::epoll_ctl(loop.epoll, EPOLL_CTL_ADD, listener_, &e) == 0;
    loop.accept_paused_until = loop.listening ? Clock::time_point{} : loop.now + 1s;
  }
  for (std::size_t i = loop.connections.size(); i-- > 0;) {
    Connection& c = *loop.connections[i];
    if (c.away) continue;
    const auto quiet = loop.now - c.last_active;
    const bool writing = c.out_pos < c.out.size();
    const bool reading = c.in_request || c.draining;
    // A request's head must arrive whole within header_timeout however it trickles in, and so must a new
    // connection's first request start (slowloris).
    const bool head_late = (c.in_request ? !c.headers_done : !c.requested) && !c.lingering &&
                           loop.now - c.head_started > options_.header_timeout;
    if ((c.lingering && quiet > kLingerTimeout) || (writing && quiet > kWriteTimeout) || head_late ||
        (!writing && reading && quiet > kReadTimeout) || (!writing && !reading && quiet > kIdleTimeout))
      close_connection(loop, c);
  }
}

// While stopping: connections between requests are closed. A request that reached the socket before the
// stop but has not been read yet is read and answered first.
void Transport::close_idle(Loop& loop) {
  for (std::size_t i = loop.connections.size(); i-- > 0;) {
    Connection& c = *loop.connections[i];
    if (c.away || !(c.lingering || (!c.in_request && !c.draining && c.out_pos == c.out.size() && c.in_pos == c.in.size())))
      continue;
    char byte;
    if (!c.lingering && c.fd >= 0 && ::recv(c.fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) > 0) {
      // May close c or hand it to a worker; a connection moved into slot i has been visited already.
      on_event(loop, c, EPOLLIN);
      continue;
    }
    close_connection(loop, c);
  }
}

// ---- worker threads ---------------------------------------------------------------------------------

// Serves the connection's current request with blocking I/O, then hands the connection back to its loop
// (closed, or to read the next request).
void Transport::serve_away(Connection& c) {
  bool ok = false;
  try {
    ok = serve_request(c);
  } catch (...) {  // out of memory: this connection ends
    ok = false;
  }
  if (!ok || c.closing) {
    if (ok && c.parse_failed && !c.peer_closed) linger_blocking(c);
    ::close(c.fd);
    c.fd = -1;
    forget(c.client);
    release_body(c);
  }
  Loop& loop = *c.loop;
  {
    std::lock_guard lock(loop.returned_mutex);
    loop.returned.push_back(&c);  // from here on the loop owns c again
  }
  loop.wake_up();
}

// serve_away(): false when the connection broke.
bool Transport::serve_request(Connection& c) {
  bool ok = flush_blocking(c);  // answers to earlier pipelined requests, or 100 Continue
  if (ok && c.pending) {
    server::Response response = std::move(*c.pending);
    c.pending.reset();
    stream_response(c, std::move(response));
  } else if (ok && !c.answered) {
    if (c.streams) {
      // The service reads the body while it answers (NDJSON) or before (uploads): read_body stays valid
      // until the answer is written.
      c.request.read_body = [this, &c](const server::ChunkSink& sink) { return read_body(c, sink); };
      server::Response response = handle(c);
      if (response.stream) {
        stream_response(c, std::move(response));
      } else {
        respond(c, std::move(response), false);
      }
      c.request.read_body = nullptr;
      if (!c.message_done && !c.parse_failed) {
        // Answered without reading all of the body: the rest is drained after the answer.
        c.closing = true;
        c.body = Body::drain;
        c.draining = true;
      }
    } else {
      while (!c.message_done && advance(c)) {
      }
      if (c.message_done && !c.answered) complete_request(c, false);
    }
  }
  ok = ok && flush_blocking(c);
  while (ok && c.draining && advance(c)) {
  }
  if (!c.answered && !c.message_done) c.closing = true;  // the client went away mid-request
  compact(c);
  return ok;
}

// Parses on to the parser's next event, reading as needed; false at the end of the input, after a
// timeout, or when the request is malformed.
bool Transport::advance(Connection& c) {
  for (;;) {
    if (c.in_pos == c.in.size()) {
      c.in.clear();
      c.in_pos = 0;
      if (!read_blocking(c)) {
        c.closing = true;
        c.draining = false;
        return false;
      }
    }
    execute(c);
    const http_errno error = HTTP_PARSER_ERRNO(&c.parser);
    if (error == HPE_PAUSED) {
      http_parser_pause(&c.parser, 0);
      c.event = Event::none;
      return true;
    }
    if (error != HPE_OK) {
      parse_error(c);
      return false;
    }
  }
}

bool Transport::read_blocking(Connection& c) {
  thread_local const std::unique_ptr<char[]> buffer = std::make_unique<char[]>(kReadBytes);
  for (;;) {
    const ssize_t n = ::recv(c.fd, buffer.get(), kReadBytes, 0);
    if (n > 0) {
      c.in.append(buffer.get(), static_cast<std::size_t>(n));
      return true;
    }
    if (n == 0) {
      c.peer_closed = true;
      return false;
    }
    if (errno == EINTR) continue;
    if ((errno == EAGAIN || errno == EWOULDBLOCK) && wait_for(c.fd, POLLIN, kReadTimeout)) continue;
    return false;
  }
}

// end_connection() on a worker thread.
void Transport::linger_blocking(Connection& c) {
  if (::shutdown(c.fd, SHUT_WR) != 0) return;
  thread_local const std::unique_ptr<char[]> buffer = std::make_unique<char[]>(kReadBytes);
  const auto deadline = Clock::now() + kLingerTimeout;
  for (std::size_t drained = 0; drained <= kDrainBytes;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0 || !wait_for(c.fd, POLLIN, left)) return;
    const ssize_t n = ::recv(c.fd, buffer.get(), kReadBytes, 0);
    if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)) return;
    if (n > 0) drained += static_cast<std::size_t>(n);
  }
}

bool Transport::flush_blocking(Connection& c) {
  const bool ok = send_all(c.fd, std::string_view(c.out).substr(c.out_pos));
  c.out.clear();
  c.out_pos = 0;
  return ok;
}

// Request::read_body: passes the body to `sink` as it arrives (for multipart/form-data, the part named
// "file"); after a refusal the rest is drained (up to kDrainBytes) so that the answer reaches the client.
server::BodyRead Transport::read_body(Connection& c, const server::ChunkSink& sink) {
  if (c.body != Body::buffer) return server::BodyRead::failed;  // read once
  c.body = Body::sink;
  c.sink = &sink;
  while (!c.message_done && advance(c)) {
  }
  c.sink = nullptr;
  if (c.sink_refused) {
    c.closing = true;
    return server::BodyRead::stopped;
  }
  if (c.message_done && !c.body_failed && (!c.multipart || c.multipart->complete()) &&
      (!c.inflater || c.inflater->finished())) {
    c.body = Body::drain;
    return server::BodyRead::complete;
  }
  c.closing = true;
  return server::BodyRead::failed;
}

// Writes a streamed response with chunked transfer encoding (HTTP/1.0: until the connection closes).
void Transport::stream_response(Connection& c, server::Response&& response) {
  bool close = c.closing || !c.keep_alive || c.http10 || stopping_.load(std::memory_order_relaxed);
  for (const auto& [key, value] : response.headers)
    if (equal_ignoring_case(key, "Connection") && equal_ignoring_case(trim(value), "close")) close = true;
  std::string& out = c.out;
  append_status_line(out, response.status);
  for (const auto& [key, value] : response.headers)
    if (!equal_ignoring_case(key, "Connection")) out.append(key).append(": ").append(value).append("\r\n");
  if (!response.content_type.empty()) out.append("Content-Type: ").append(response.content_type).append("\r\n");
  if (!c.http10) out += "Transfer-Encoding: chunked\r\n";
  out.append("Date: ").append(http_date()).append("\r\n");
  if (close) out += "Connection: close\r\n";
  out += "\r\n";
  bool ok = flush_blocking(c);
  if (ok && !c.head) {
    try {
      ok = response.stream([&](std::string_view piece) {
        if (piece.empty()) return true;
        if (c.http10) return send_all(c.fd, piece);
        char size[24];
        const int n = std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
        iovec iov[3] = {{size, static_cast<std::size_t>(n)},
                        {const_cast<char*>(piece.data()), piece.size()},
                        {const_cast<char*>("\r\n"), 2}};
        return send_all(c.fd, iov, 3);
      });
    } catch (...) {
      ok = false;
    }
    if (ok && !c.http10) ok = send_all(c.fd, "0\r\n\r\n");
  }
  c.answered = true;
  // A body cut short ends the connection, which tells the client it is incomplete.
  if (close || !ok) c.closing = true;
  observe(c, response.status, !ok);
}

}  // namespace

struct HttpServer::Impl {
  Impl(Classifier classifier, ServeOptions options) : transport(std::move(classifier), std::move(options)) {}
  Transport transport;
};

HttpServer::HttpServer(Classifier classifier, ServeOptions options)
    : impl_(std::make_unique<Impl>(std::move(classifier), std::move(options))) {}

HttpServer::~HttpServer() = default;

int HttpServer::bind() { return impl_->transport.bind(); }

void HttpServer::run() { impl_->transport.run(); }

void HttpServer::stop() { impl_->transport.stop(); }

}  // namespace logclf
