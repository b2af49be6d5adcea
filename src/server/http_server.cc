// The cpp-httplib adapter: sockets, connection threads, body reading and limits; everything the service
// answers comes from Service (service.h).
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "logclf/server.h"
#include "server/service.h"

namespace logclf {

namespace {

// Debian's cpp-httplib is built with Brotli and compresses every text response with it at its highest
// quality whenever the client accepts "br" (every browser does), which has no setting in httplib 0.11 and
// takes seconds per megabyte (Swagger UI's bundle: 36 s under load, against 0.5 s for gzip). So "br" is
// taken out of the request's Accept-Encoding before the library reads it; gzip stays. The library hands the
// pre-routing handler its own non-const Request, so changing it is safe.
void offer_gzip_only(httplib::Request& req) {
  for (auto [it, end] = req.headers.equal_range("Accept-Encoding"); it != end; ++it) {
    if (it->second.find("br") == std::string::npos) continue;
    it->second = it->second.find("gzip") != std::string::npos ? "gzip" : "identity";
  }
}

using Clock = std::chrono::steady_clock;

// A connection is served by one thread from its first request to its last, so the pre-routing handler
// and the logger of a request run on the same thread: these carry the request's start time and whether
// its streamed body was cut short from one to the other.
thread_local Clock::time_point request_start;
thread_local bool request_started = false;
thread_local bool stream_failed = false;

// Requests on one connection before it is closed; high, so load balancers and benchmarks keep their
// connections (the library's default is 5).
constexpr std::size_t kKeepAliveRequests = 100000;
constexpr std::size_t kMaxFormParts = 16;
// After the service has refused a body (too large, a bad line), up to this much of the rest is read and
// dropped before the answer is sent. A client that writes its whole body before reading (most do) would
// otherwise find the connection reset, its receive buffer and the answer in it discarded, when the server
// closes with unread data (the "lingering close" of other servers). Bounded, so a refused endless body costs
// little.
constexpr std::size_t kDrainBytes = std::size_t{1} << 20;

server::Request convert(const httplib::Request& in) {
  server::Request out;
  out.method = in.method;
  out.path = in.path;
  out.query.reserve(in.params.size());
  for (const auto& [key, value] : in.params) out.query.emplace_back(key, value);
  out.headers.reserve(in.headers.size());
  for (const auto& [key, value] : in.headers) out.headers.emplace_back(key, value);
  return out;
}

bool has_body(const httplib::Request& request) {
  return request.has_header("Transfer-Encoding") ||
         (request.has_header("Content-Length") && request.get_header_value("Content-Length") != "0");
}

// The message of an error the library answers by itself.
std::string library_error(int status, std::size_t max_body) {
  switch (status) {
    case 400: return "malformed HTTP request";
    case 404: return "not found";
    case 413: return "request body larger than " + std::to_string(max_body) + " bytes";
    case 414: return "request target too long";
    case 416: return "unsatisfiable Range header";
    default: return "HTTP error " + std::to_string(status);
  }
}

// `close`: the connection ends after this response (the server is stopping, or the body was not read).
void apply(server::Response&& from, httplib::Response& to, bool close) {
  to.status = from.status;
  for (auto& [key, value] : from.headers) to.set_header(key, value);
  if (close) to.set_header("Connection", "close");
  if (from.stream) {
    // The whole body is written in one call of the provider, so nothing between calls can cut it short.
    to.set_chunked_content_provider(from.content_type, [stream = std::move(from.stream)](std::size_t, httplib::DataSink& sink) {
      bool ok = false;
      try {
        ok = stream([&](std::string_view piece) { return piece.empty() || sink.write(piece.data(), piece.size()); });
      } catch (...) {
        ok = false;
      }
      if (ok) {
        sink.done();
      } else {
        stream_failed = true;
      }
      return ok;
    });
    return;
  }
  if (!from.content_type.empty()) to.set_header("Content-Type", from.content_type);
  to.body = std::move(from.body);
}

// The pattern matching exactly `path` (routes are registered with the library as regular expressions).
std::string exact_pattern(std::string_view path) {
  std::string out;
  for (const char c : path) {
    if (std::strchr(".^$|()[]{}*+?\\", c) != nullptr) out += '\\';
    out += c;
  }
  return out;
}

// The library stops a server by invalidating its listening socket, which also cuts short the streamed
// responses under way (the chunked writer checks it before each piece). This stops by shutting the socket
// down instead: accept() fails, the accept loop ends and waits for its connections, and requests in flight
// finish; the service answers with "Connection: close" from then on, so that kept-alive connections end
// after their current request.
class Listener : public httplib::Server {
 public:
  // The library listens with a backlog of 5, so a burst of new connections (a load balancer's pool, a
  // benchmark) would wait for SYN retransmissions; listen() again raises it (Linux caps it at somaxconn).
  void raise_backlog() { ::listen(svr_sock_, 1024); }
  void stop_accepting() { ::shutdown(svr_sock_, SHUT_RDWR); }
  // The accept loop has closed the socket on its way out; nothing may use the number again.
  void forget_socket() { svr_sock_ = INVALID_SOCKET; }
  void close_unused_socket() {
    if (const socket_t sock = svr_sock_.exchange(INVALID_SOCKET); sock != INVALID_SOCKET) ::close(sock);
  }
};

}  // namespace

struct HttpServer::Impl {
  Impl(Classifier classifier, ServeOptions o) : options(std::move(o)), service(std::move(classifier), options) {
    const int threads = options.threads > 0
                            ? options.threads
                            : static_cast<int>(std::max(32u, 4 * std::max(1u, std::thread::hardware_concurrency())));
    http.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<std::size_t>(threads)); };
    http.set_keep_alive_max_count(kKeepAliveRequests);
    http.set_tcp_nodelay(true);
    // SO_REUSEADDR only: the library's default adds SO_REUSEPORT, with which a second server on the same
    // port would start and silently take half the connections instead of failing.
    http.set_socket_options([](socket_t sock) {
      const int yes = 1;
      ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });
    http.set_payload_max_length(options.max_body);

    // Everything that needs no body is answered before the body is read: GET requests, and refusals
    // (unknown path, wrong method, missing key), so a refused upload is not read at all.
    http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      request_start = Clock::now();
      request_started = true;
      offer_gzip_only(const_cast<httplib::Request&>(req));
      auto answer = service.answer_before_body(convert(req));
      if (!answer) return httplib::Server::HandlerResponse::Unhandled;
      // An unread body would be taken for the next request.
      apply(std::move(*answer), res, stopping || has_body(req));
      return httplib::Server::HandlerResponse::Handled;
    });
    for (const server::Route& route : server::Service::routes()) {
      if (route.methods.find("POST") == std::string_view::npos) continue;
      http.Post(exact_pattern(route.path),
                [this, streams = route.streams_body](const httplib::Request& req, httplib::Response& res,
                                                     const httplib::ContentReader& reader) {
                  post(req, res, reader, streams);
                });
    }
    // Answers the library gives itself (a malformed request, a body over the limit by its length) get the
    // service's JSON error form.
    http.set_error_handler(httplib::Server::HandlerWithResponse(
        [this](const httplib::Request& req, httplib::Response& res) {
          if (!res.body.empty() || res.content_provider_) return httplib::Server::HandlerResponse::Unhandled;
          server::Response error = server::Service::error(res.status, library_error(res.status, options.max_body));
          service.add_cors_headers(req.get_header_value("Origin"), error);
          apply(std::move(error), res, stopping);
          return httplib::Server::HandlerResponse::Handled;
        }));
    http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
      apply(server::Service::error(500, "internal error"), res, true);
    });
    http.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
      const double seconds = request_started ? std::chrono::duration<double>(Clock::now() - request_start).count() : 0;
      service.metrics().observe_request(service.route_of(req.path), req.method, res.status, seconds, stream_failed);
      request_started = false;
      stream_failed = false;
    });
  }

  // A POST to a route that reads its body: the body is read here with the size limit (the library applies
  // it only to bodies of declared length), or handed to the service to read as it arrives.
  void post(const httplib::Request& hreq, httplib::Response& hres, const httplib::ContentReader& reader, bool streams) {
    server::Request req = convert(hreq);
    bool complete = true;
    std::size_t received = 0;
    bool over = false;         // more than max_body bytes arrived
    bool too_many = false;     // more than kMaxFormParts parts arrived
    bool refused = false;      // the rest of the body is drained, not used
    std::size_t drained = 0;
    auto drain = [&](std::size_t n) { return (drained += n) <= kDrainBytes; };
    std::optional<server::Response> refusal;
    if (streams) {
      req.read_body = [&](const server::ChunkSink& sink) {
        auto pass = [&](const char* data, std::size_t n) {
          if (refused) return drain(n);
          refused = !sink(std::string_view(data, n));
          return true;
        };
        bool ok;
        if (hreq.is_multipart_form_data()) {
          // An uploaded file: the part named "file" is the body.
          bool in_file = false;
          ok = reader(
              [&](const httplib::MultipartFormData& part) {
                in_file = part.name == "file";
                return true;
              },
              [&](const char* data, std::size_t n) { return !in_file || pass(data, n); });
        } else {
          ok = reader(pass);
        }
        if (refused) {
          complete = false;
          return server::BodyRead::stopped;
        }
        if (ok) return server::BodyRead::complete;
        complete = false;
        return hres.status == 413 ? server::BodyRead::too_large : server::BodyRead::failed;
      };
    } else {
      auto fits = [&](std::size_t n) {
        if (!over && (received += n) > options.max_body) over = refused = true;
        return !over;
      };
      bool ok;
      if (hreq.is_multipart_form_data()) {
        req.multipart = true;
        ok = reader(
            [&](const httplib::MultipartFormData& part) {
              if (refused) return true;
              if (req.files.size() == kMaxFormParts) {
                too_many = refused = true;
                return true;
              }
              req.files.push_back({part.name, part.filename, part.content_type, {}});
              return true;
            },
            [&](const char* data, std::size_t n) {
              if (refused || !fits(n)) return drain(n);
              if (req.files.empty()) return false;
              req.files.back().content.append(data, n);
              return true;
            });
      } else {
        ok = reader([&](const char* data, std::size_t n) {
          if (refused || !fits(n)) return drain(n);
          req.body.append(data, n);
          return true;
        });
      }
      if (over || hres.status == 413) {
        refusal = server::Service::error(413, library_error(413, options.max_body));
      } else if (too_many) {
        refusal = server::Service::error(413, "more than " + std::to_string(kMaxFormParts) + " multipart/form-data parts");
      } else if (!ok) {
        refusal = server::Service::error(400, req.multipart ? "malformed multipart/form-data body"
                                                            : "the request body could not be read completely");
      }
      if (refusal) {
        complete = false;
        service.add_cors_headers(hreq.get_header_value("Origin"), *refusal);
      }
    }
    server::Response res = refusal ? std::move(*refusal) : service.handle(req);
    apply(std::move(res), hres, stopping || !complete);
  }

  ServeOptions options;
  server::Service service;
  Listener http;  // after the service: stopped and destroyed before it
  std::atomic<bool> stopping{false};
  std::atomic<bool> bound{false};
  std::atomic<bool> ran{false};
  std::atomic<bool> stop_sent{false};
};

HttpServer::HttpServer(Classifier classifier, ServeOptions options)
    : impl_(std::make_unique<Impl>(std::move(classifier), std::move(options))) {}

HttpServer::~HttpServer() {
  stop();
  if (!impl_->ran) impl_->http.close_unused_socket();
}

int HttpServer::bind() {
  const ServeOptions& o = impl_->options;
  errno = 0;
  const int port = o.port == 0 ? impl_->http.bind_to_any_port(o.host)
                               : (impl_->http.bind_to_port(o.host, o.port) ? o.port : -1);
  if (port < 0) {
    const std::string reason = errno != 0 ? std::string(": ") + std::strerror(errno) : "";
    throw Error("cannot listen on " + o.host + " port " + std::to_string(o.port) + reason);
  }
  impl_->http.raise_backlog();
  impl_->bound = true;
  if (impl_->stopping && !impl_->stop_sent.exchange(true)) impl_->http.stop_accepting();
  return port;
}

void HttpServer::run() {
  if (!impl_->bound) bind();
  impl_->ran = true;
  const bool ok = impl_->http.listen_after_bind();
  const int error = errno;
  impl_->http.forget_socket();
  // Stopping makes accept() fail, which the library reports as a failure.
  if (!ok && !impl_->stopping)
    throw Error(std::string("the server stopped accepting connections: ") + std::strerror(error));
}

void HttpServer::stop() {
  impl_->stopping = true;
  if (impl_->bound && !impl_->stop_sent.exchange(true)) impl_->http.stop_accepting();
}

}  // namespace logclf
