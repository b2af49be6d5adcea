// Listening, starting and stopping, and the steps of a request that are the same on an event loop and on
// a worker thread: parsing, deciding who reads the body, the body budget, answering and refusing.
#include "server/transport.h"

#include <malloc.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <thread>

#include "logclf/encoder.h"

namespace logclf::server {

using namespace http;

namespace {

// Whether the service shares encoder batches between requests for this model (Service does the same).
bool batches(const ServeOptions& options, const Classifier& classifier) {
  return options.batching == MicroBatching::always ||
         (options.batching == MicroBatching::automatic && classifier.encoder_batches());
}

}  // namespace

Loop::Loop() {
  epoll = ::epoll_create1(EPOLL_CLOEXEC);
  wake = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  epoll_event e{};
  e.events = EPOLLIN;
  e.data.ptr = &wake_tag;
  if (epoll < 0 || wake < 0 || ::epoll_ctl(epoll, EPOLL_CTL_ADD, wake, &e) != 0) {
    const int error = errno;
    if (epoll >= 0) ::close(epoll);
    if (wake >= 0) ::close(wake);
    throw Error(std::string("cannot create the server's event loop: ") + std::strerror(error));
  }
}

Loop::~Loop() {
  ::close(epoll);
  ::close(wake);
}

void Loop::wake_up() const {
  const std::uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(wake, &one, sizeof one);
}

Transport::Transport(Classifier classifier, ServeOptions o)
    : options_(std::move(o)),
      batching_(batches(options_, classifier)),
      service_(std::move(classifier), options_),
      access_log_(options_.access_log.empty() ? nullptr : std::make_unique<AccessLog>(options_.access_log)),
      clients_(std::max(1, options_.max_connections_per_client)),
      workers_(options_.threads > 0 ? static_cast<std::size_t>(options_.threads)
                                    : std::max<std::size_t>(32, 4 * std::max(1u, std::thread::hardware_concurrency()))) {
  const unsigned loops = std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < loops; ++i) loops_.push_back(std::make_unique<Loop>());
}

Transport::~Transport() {
  stop();
  close_listener();
}

int Transport::bind() {
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

void Transport::run() {
  if (listener_ < 0) bind();
  if (!stopping_) {
    for (auto& loop : loops_) {
      epoll_event e{};
      e.events = EPOLLIN | EPOLLEXCLUSIVE;
      e.data.ptr = &listener_tag;
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

void Transport::stop() {
  stopping_ = true;
  service_.begin_stopping();
  {
    std::lock_guard lock(bind_mutex_);
    if (listener_ >= 0 && !shut_down_.exchange(true)) ::shutdown(listener_, SHUT_RDWR);
  }
  for (auto& loop : loops_) loop->wake_up();
}

void Transport::close_listener() {
  std::lock_guard lock(bind_mutex_);
  shut_down_ = true;
  if (listener_ >= 0) ::close(listener_);
  listener_ = -1;
}

void Transport::forget(const ClientAddress& client) {
  --open_;
  clients_.release(client);
}

// ---- a request's steps ----------------------------------------------------------------------------

// Parses what `in` holds from `in_pos`, up to the next pause (headers or message complete) or error. Bytes
// of a request head are also checked by RequestHeadChecker; what it refuses is made a parse error.
void Transport::execute(Connection& c) {
  const bool head = !c.in_body();
  const std::size_t begin = c.in_pos;
  c.in_pos += http_parser_execute(&c.parser, &parser_settings(), c.in.data() + c.in_pos, c.in.size() - c.in_pos);
  const http_errno error = HTTP_PARSER_ERRNO(&c.parser);
  if (head && (error == HPE_OK || error == HPE_PAUSED) &&
      !c.head_check.feed(std::string_view(c.in).substr(begin, c.in_pos - begin))) {
    c.event = Event::none;
    c.parser.http_errno = HPE_INVALID_HEADER_TOKEN;
  }
}

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
      } else if (c.body_bytes > c.reserved &&
                 !reserve_body(c, std::max<std::uint64_t>(c.body_bytes, c.reserved + kReserveStep))) {
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

// The request line and headers are read: answers what needs no body, refuses what cannot be served, and
// decides who reads the body.
void Transport::headers_complete(Connection& c) {
  c.start = Clock::now();
  c.in_flight.emplace(service_.metrics());
  Request& r = c.request;
  r.method = http_method_str(static_cast<http_method>(c.parser.method));
  parse_target(c.target, r);
  c.keep_alive = http_should_keep_alive(&c.parser) != 0 && c.parser.upgrade == 0;
  c.http10 = c.parser.http_major == 1 && c.parser.http_minor == 0;
  if (const std::string problem = framing_problem(r, c.http10); !problem.empty()) {
    // Where this body ends is unclear, so nothing after the head can be trusted: answer, read no more, close.
    Response error = Service::error(400, problem);
    service_.add_cors_headers(r.header("Origin"), error);
    respond(c, std::move(error), true);
    c.parse_failed = true;
    c.stop_reading();
    return;
  }
  c.head_method = c.parser.method == HTTP_HEAD;
  c.gzip_ok = accepts_gzip(r.header("Accept-Encoding"));
  const bool chunked = (c.parser.flags & F_CHUNKED) != 0;
  const std::uint64_t length = (c.parser.flags & F_CONTENTLENGTH) != 0 ? c.parser.content_length : 0;
  const bool has_body = chunked || length > 0;
  // A client that sent "Expect: 100-continue" waits for it before sending the body: a refused one will not
  // come, and is not waited for.
  const bool expects = has_body && equal_ignoring_case(trim(r.header("Expect")), "100-continue");

  // Everything that needs no body is answered before the body is read: GET requests, and refusals
  // (unknown path, wrong method, missing key), so that a refused upload is not read at all.
  if (auto early = service_.answer_before_body(r)) {
    respond(c, std::move(*early), has_body);  // an unread body would be taken for the next request
    c.body = Body::drain;
    if (has_body) c.enter(expects ? Phase::stopped : Phase::draining);
    return;
  }
  bool unsupported = false;
  if (const auto coding = content_coding(r.header("Content-Encoding"), unsupported); coding && has_body) {
    c.inflater.emplace(*coding == "gzip");
  } else if (unsupported) {
    refuse_early(c, 415, "unsupported Content-Encoding '" + std::string(trim(r.header("Content-Encoding"))) +
                             "': send the body as it is, or gzip or deflate compressed", expects);
    return;
  }
  const std::size_t route = Service::route_of(r.path);
  c.streams = route < Service::routes().size() && Service::routes()[route].streams_body;
  // A streamed body (NDJSON) is read piece by piece while it is answered: its size has no limit.
  if (length > options_.max_body && !c.streams) {
    refuse_early(c, 413, transport_error(413, options_.max_body), expects);
    return;
  }
  // A body read whole into memory counts against the server's budget for all of them (a streamed one is
  // read piece by piece and does not).
  if (!c.streams && !reserve_body(c, length)) {
    if (expects) c.stop_reading();
    return;
  }
  const std::string_view type = r.header("Content-Type");
  if (MultipartParser::is_form_data(type)) {
    const auto boundary = MultipartParser::boundary_of(type);
    if (!boundary) {
      refuse_early(c, 400, "malformed multipart/form-data body", expects);
      return;
    }
    c.multipart.emplace(*boundary);
    r.multipart = !c.streams;  // a streaming route gets the part named "file" as its body
  }
  if (expects) c.out += "HTTP/1.1 100 Continue\r\n\r\n";
  // Batched classification waits for other requests, and large bodies take long to read and classify:
  // neither may hold up a loop. So do compressed bodies, whose size is known only once decompressed.
  if (c.streams || batching_.load(std::memory_order_relaxed) || chunked || length > kInlineBodyBytes || c.inflater) c.owner = Owner::leaving;
}

// Reserves `bytes` of the body budget for c's request in all (what it holds already included). Over the
// budget, the request is answered 503 with Retry-After and its body drained.
bool Transport::reserve_body(Connection& c, std::uint64_t bytes) {
  if (bytes <= c.reserved) return true;
  const std::uint64_t more = bytes - c.reserved;
  const std::uint64_t before = buffered_.fetch_add(more, std::memory_order_relaxed);
  // A request alone may always proceed (up to max_body), so a budget below max_body cannot refuse all.
  if (before + more > options_.max_buffered_bodies && before > c.reserved) {
    buffered_.fetch_sub(more, std::memory_order_relaxed);
    Response busy = Service::error(503, "the server holds too many request bodies right now; retry shortly");
    busy.headers.emplace_back("Retry-After", "1");
    service_.add_cors_headers(c.request.header("Origin"), busy);
    respond(c, std::move(busy), true);
    c.body = Body::drain;
    if (c.phase == Phase::body) c.enter(Phase::draining);
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

// The body is read: the answer, or a streamed one left for a worker when on a loop.
void Transport::complete_request(Connection& c, bool on_loop) {
  if (c.inflater && !c.inflater->finished()) {
    refuse(c, 400, std::string("the ") + (c.inflater->gzip() ? "gzip" : "deflate") + " body ends early");
    return;
  }
  if (c.multipart && !c.multipart->complete()) {
    refuse(c, 400, "malformed multipart/form-data body");
    return;
  }
  Response response = handle(c);
  release_body(c);
  if (!response.stream) {
    respond(c, std::move(response), false);
  } else if (on_loop) {
    c.pending = std::move(response);
    c.owner = Owner::leaving;
  } else {
    stream_response(c, std::move(response));
  }
}

Response Transport::handle(Connection& c) {
  try {
    return service_.handle(c.request);
  } catch (...) {
    Response error = Service::error(500, "internal error");
    error.headers.emplace_back("Connection", "close");
    return error;
  }
}

// Queues `response` on the connection. `close`: the connection ends after it (its body was not read);
// it also does when the client or the service asks for it, or the server is stopping.
void Transport::respond(Connection& c, Response&& response, bool close) {
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
      if (c.gzip_ok && !c.head_method && (compressed = gzip(body)) && compressed->size() < body.size()) {
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
  if (!bodyless && !c.head_method) out += body;
  c.answered = true;
  if (close) c.closing = true;
  observe(c, response.status, false, bodyless || c.head_method ? 0 : body.size());
}

// Answers with a JSON error and Connection: close; the rest of the body is drained.
void Transport::refuse(Connection& c, int status, std::string_view message) {
  Response error = Service::error(status, message);
  service_.add_cors_headers(c.request.header("Origin"), error);
  respond(c, std::move(error), true);
  c.body = Body::drain;
  if (c.phase == Phase::body) c.enter(Phase::draining);
}

// refuse() before any of the body was read; when the client waits for 100 Continue, the body will not come.
void Transport::refuse_early(Connection& c, int status, std::string_view message, bool expects) {
  refuse(c, status, message);
  if (expects) c.stop_reading();
}

// The parser failed: the request is malformed (or over a limit), or a refused body went past kDrainBytes.
void Transport::parse_error(Connection& c) {
  const bool in_request = c.in_request(), in_body = c.in_body();
  c.parse_failed = true;
  c.closing = true;
  c.stop_reading();
  // A request answered already keeps its answer; one on a streaming route is answered by the service, which
  // reads a broken body as a failed read. Between requests, what failed is a new request.
  if (in_request && (c.answered || (c.streams && in_body))) return;
  if (!in_request) {  // nothing of a new request was recognised
    c.request.method.clear();
    c.request.path.clear();
  }
  const int status = c.limit_status != 0 ? c.limit_status : 400;
  const std::string message = c.limit_status == 0 && in_body ? "the request body could not be read completely"
                                                             : transport_error(status, options_.max_body);
  Response error = Service::error(status, message);
  service_.add_cors_headers(c.request.header("Origin"), error);
  respond(c, std::move(error), true);
}

void Transport::observe(Connection& c, int status, bool failed, std::uint64_t response_bytes) {
  const double seconds = c.start ? std::chrono::duration<double>(Clock::now() - *c.start).count() : 0;
  service_.metrics().observe_request(Service::route_of(c.request.path), c.request.method, status, seconds, failed);
  c.in_flight.reset();
  if (access_log_) {
    AccessLog::Entry e;
    e.client = &c.client;
    e.method = c.request.method;
    e.path = c.request.path;
    e.status = status;
    e.request_bytes = c.body_bytes;
    e.response_bytes = response_bytes;
    e.seconds = seconds;
    e.user_agent = c.request.header("User-Agent");
    e.failed = failed;
    access_log_->write(e);
  }
}

void Transport::reload(Classifier classifier) {
  const bool batching = batches(options_, classifier);
  service_.reload(std::move(classifier));
  batching_.store(batching, std::memory_order_relaxed);
}

void Transport::reopen_access_log() {
  if (access_log_) access_log_->reopen();
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

// Closing at once with input unread (the request was malformed, or refused with more of it to come) would
// make the kernel answer what arrives with a reset, which can discard the answer before the client reads
// it: such a connection is shut for writing and lingers instead (see socket_io.h).
bool Transport::should_linger(const Connection& c) { return !c.peer_closed && (c.parse_failed || c.unparsed()); }

}  // namespace logclf::server
