// The HTTP service without sockets: a request (method, path, query, headers, body) in, a response
// (status, headers, body or a body written while it is sent) out. The HTTP transport (http_server.cc)
// only translates; tests and fuzzers call handle() directly.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "logclf/classifier.h"
#include "logclf/server.h"
#include "server/metrics.h"

namespace logclf::server {

using Fields = std::vector<std::pair<std::string, std::string>>;

// One part of a multipart/form-data body.
struct FormFile {
  std::string name;
  std::string filename;
  std::string content_type;
  std::string content;
};

// Receives a piece of a body; returns false to stop (the peer is gone, or the body is refused).
using ChunkSink = std::function<bool(std::string_view)>;

// How reading a streamed body ended.
enum class BodyRead {
  complete,
  stopped,    // the sink returned false
  too_large,  // refused by the HTTP layer for its declared length
  failed,     // the connection broke or the transfer encoding was malformed
};

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string path;    // decoded, without the query
  Fields query;        // decoded query parameters, in order
  Fields headers;
  std::string body;
  // multipart/form-data bodies arrive parsed (by the transport): `files` holds their parts.
  bool multipart = false;
  std::vector<FormFile> files;
  // When set, the body is read through this as it arrives instead of from `body`: it passes each piece
  // to the sink until the end or until the sink returns false.
  std::function<BodyRead(const ChunkSink&)> read_body;

  std::string_view header(std::string_view name) const;        // case-insensitive; empty when absent
  const std::string* query_param(std::string_view name) const;  // the first value, or nullptr
};

struct Response {
  int status = 200;
  std::string content_type;
  std::string body;
  Fields headers;
  // A body produced while it is sent (chunked transfer): writes its pieces to the sink, which returns
  // false when the client is gone; returns false when the body could not be completed.
  std::function<bool(const ChunkSink&)> stream;
};

// What the service serves. Each route is one path (or, for the static files, a path prefix).
struct Route {
  std::string_view path;       // as in the OpenAPI document ("/assets/{file}" for the prefix)
  std::string_view methods;    // the Allow header's value
  bool prefix = false;         // matches every path below `path` minus its "{file}" part
  bool open = false;           // answered without the API key
  bool streams_body = false;   // reads its body as it arrives
};

class Service {
 public:
  Service(Classifier classifier, ServeOptions options);
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // The answer to `request`. Never throws: every failure is a JSON error response.
  Response handle(const Request& request);
  // The answer when it does not depend on the body (authentication, unknown path, wrong method, CORS
  // preflight, GET requests), so that a refused request's body need not be read; nullopt otherwise.
  std::optional<Response> answer_before_body(const Request& request);

  // The route of `path`, as an index into routes(); routes().size() when none matches.
  static std::size_t route_of(std::string_view path);
  static const std::vector<Route>& routes();
  // The Access-Control-* headers for a response to a request from `origin` (none when not allowed).
  void add_cors_headers(std::string_view origin, Response& response) const;

  // From now on /ready answers 503: the server is stopping.
  void begin_stopping();
  // Serves `classifier` from now on. Requests already started finish on the model they started with.
  void reload(Classifier classifier);

  Metrics& metrics();
  const ServeOptions& options() const;

  // A JSON error response: {"error": message}.
  static Response error(int status, std::string_view message);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace logclf::server
