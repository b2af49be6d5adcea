// The HTTP service behind `logclf serve`: the classifier's API (JSON, CSV, NDJSON), the original project's
// two endpoints, the model's description, Prometheus metrics, the OpenAPI document and the web page.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "logclf/cache.h"
#include "logclf/classifier.h"

namespace logclf {

// When single-message requests share encoder batches.
enum class MicroBatching {
  automatic,  // when the model's encoder batches (Classifier::encoder_batches: an E5 forward pass pays for it)
  always,
  never,
};

struct ServeOptions {
  std::string host = "127.0.0.1";  // loopback unless asked otherwise
  int port = 8000;                 // 0 picks a free port (HttpServer::bind() returns it)
  // Threads for the requests that may block: bodies read as they arrive (NDJSON, uploads), streamed
  // answers, large bodies, and micro-batched classification (which waits for other requests). Other
  // requests are answered by the event loops, one per hardware thread, whatever this is; connections are
  // not bound to threads. Requests beyond this many wait for a thread. 0 picks max(32, 4 x hardware threads).
  int threads = 0;
  std::size_t max_body = std::size_t{64} << 20;  // request body limit in bytes (413 above)
  // Bytes of request bodies held in memory at once, across all connections; a body that would go past it is
  // answered 503 with Retry-After (bodies streamed to /v1/classify/ndjson do not count).
  std::uint64_t max_buffered_bodies = std::uint64_t{256} << 20;
  std::size_t max_lines = 10000;                 // logs per POST /v1/classify request (413 above)
  std::string api_key;                           // non-empty: `Authorization: Bearer KEY` required
  // Origins allowed by CORS ("*" allows any); empty: no CORS headers are sent.
  std::vector<std::string> cors_origins;
  MicroBatching batching = MicroBatching::automatic;
  std::chrono::microseconds batch_wait{2000};  // how long a batch waits for more requests
  std::size_t batch_lines = 32;                // a batch is run as soon as it holds this many lines
  // Connections at once. At the cap, a new connection closes the one idle longest between requests, so
  // that idle clients cannot lock new ones out; it is refused only when none is idle.
  int max_connections = 10000;
  // Connections at once from one client address; more are answered 429 and closed.
  int max_connections_per_client = 256;
  // A request's line and headers must arrive within this, however slowly they trickle in; a new
  // connection must begin its first request within it too. Late ones are closed.
  std::chrono::milliseconds header_timeout{10000};
  // The original API's two endpoints (/classify_log/, /upload_csv/) answer errors as the FastAPI service
  // they come from did: a missing field is 422 {"detail": [{"type": "missing", "loc": [...], ...}]}, any
  // other error {"detail": message}. Off: 400 {"error": message}, as every endpoint; a request can still
  // ask with ?compat=fastapi.
  bool fastapi_errors = false;
  // The message cache of every endpoint: a line seen before takes the remembered result (cache.h). Shared
  // by all requests; after a reload it starts afresh for the new model.
  CacheOptions cache;
  // Access log: one JSON line per answered request (time, client, method, path, status, bytes, duration,
  // user agent) to this file, appended, or to standard output for "-"; empty: none.
  std::string access_log;
};

class HttpServer {
 public:
  HttpServer(Classifier classifier, ServeOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens on options.host:options.port; returns the port, the chosen one when it was 0.
  // Throws Error when the address cannot be used.
  int bind();
  // Serves connections until stop(); returns once every request in flight has been answered. Binds first
  // when bind() was not called. Throws Error when accepting connections fails.
  void run();
  // Stops accepting connections and lets run() return when the requests in flight are done. Safe from
  // any thread, before or during run(), and more than once.
  void stop();
  // Serves `classifier` from now on: requests already started finish on the model they started with.
  // Safe from any thread during run().
  void reload(Classifier classifier);
  // Closes and reopens the access log file (after logrotate moved it). Throws Error when it cannot be opened;
  // the log then goes on to the old file.
  void reopen_access_log();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace logclf
