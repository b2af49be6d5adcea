// The HTTP/1.1 transport of `logclf serve`: event loops (epoll, one per hardware thread) accept connections,
// parse requests with http-parser and answer those with a small body inline; requests that may block a
// loop (bodies read as they arrive, streamed answers, large bodies, micro-batched classification) are
// served by a bounded pool of threads with blocking I/O and then handed back. Everything the service
// answers comes from Service (service.h).
//
//   transport.cc    listening, starting and stopping; a request's steps common to loops and workers
//   loop_side.cc    the event loops: accepting, reading, writing, timeouts, handing off to workers
//   worker_side.cc  a request served on a worker thread with blocking I/O, then handed back
//   connection.*    a connection, its request's phase and the parser callbacks
//   socket_io.*     reads, writes and the lingering close, as one step and its blocking form
//
// The loops use epoll directly rather than libevent or libuv (both packaged in Debian): the transport needs
// only accept, read, write and a once-a-second sweep, and handing a connection to a blocking worker thread
// and back is simplest on plain descriptors. Parsing (http-parser), multipart bodies (multipart.h) and
// compression (zlib, in http_util.cc) are not written here.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>
#include <utility>
#include <vector>

#include "logclf/server.h"
#include "server/access_log.h"
#include "server/client_limits.h"
#include "server/connection.h"
#include "server/service.h"
#include "server/workers.h"

namespace logclf::server {

using namespace std::chrono_literals;

// After a body has been refused (too large, a bad line), up to this much of the rest is read and dropped.
// A client that writes its whole body before reading (most do) would otherwise find the connection reset,
// its receive buffer and the answer in it discarded, when the server closes with unread data (the
// "lingering close" of other servers). Bounded, so a refused endless body costs little.
inline constexpr std::size_t kDrainBytes = std::size_t{1} << 20;
// Bodies up to this size, of declared length, are read and answered on the event loop; larger ones on a
// worker thread, so that a loop never spends long on one request while others wait.
inline constexpr std::uint64_t kInlineBodyBytes = 64 << 10;
// A connection's answers not yet written beyond which its pipelined requests wait, and its unparsed input
// beyond which it is not read: what one connection can make the server hold.
inline constexpr std::size_t kMaxPendingOutput = 1 << 20;
inline constexpr std::size_t kMaxBufferedInput = 1 << 20;
inline constexpr std::size_t kReadBytes = 64 << 10;
// A body of unknown length (chunked, or compressed) reserves the body budget in steps of this size.
inline constexpr std::uint64_t kReserveStep = 1 << 20;
inline constexpr int kBacklog = 1024;
inline constexpr auto kIdleTimeout = 60s;   // a kept-alive connection with no request
inline constexpr auto kReadTimeout = 30s;   // a request (line, headers or body) that stops arriving
inline constexpr auto kWriteTimeout = 30s;  // a client that stops reading its answer
inline constexpr auto kLingerTimeout = 2s;  // see Transport::end_connection()
// Text responses above this size are gzip-compressed for clients that accept it.
inline constexpr std::size_t kGzipMinBytes = 1024;

// Tags of the epoll events that are not connections.
inline char listener_tag;
inline char wake_tag;

// An event loop: its epoll set and the connections it owns.
struct Loop {
  Loop();
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;
  void wake_up() const;

  int epoll = -1;
  int wake = -1;  // eventfd: stop(), or connections handed back by workers
  bool listening = false;
  Clock::time_point accept_paused_until{};
  std::size_t evicted = 0;  // connections marked evicted, closed after the events of one epoll_wait
  Clock::time_point now;
  std::vector<std::unique_ptr<Connection>> connections;
  std::mutex returned_mutex;
  std::vector<Connection*> returned;                      // by worker threads
  std::vector<std::pair<int, ClientAddress>> incoming;    // sockets accepted by another loop, for this one
  std::unique_ptr<char[]> buffer = std::make_unique<char[]>(kReadBytes);
};

class Transport {
 public:
  Transport(Classifier classifier, ServeOptions options);
  ~Transport();

  int bind();
  void run();
  // Stops accepting (shutting the listening socket down makes new connections fail at once) and wakes
  // the loops, which close idle connections and end once the requests in flight are answered.
  void stop();
  // Serves `classifier` from now on (HttpServer::reload).
  void reload(Classifier classifier);
  void reopen_access_log();

  // For the parser callbacks (connection.cc).
  bool body_piece(Connection& c, std::string_view piece);
  void release_body(Connection& c);

 private:
  void close_listener();

  // A request's steps, on a loop or a worker (transport.cc).
  void execute(Connection& c);
  bool take_body(Connection& c, std::string_view piece);
  bool reserve_body(Connection& c, std::uint64_t bytes);
  void headers_complete(Connection& c);
  void complete_request(Connection& c, bool on_loop);
  void respond(Connection& c, Response&& response, bool close);
  void refuse(Connection& c, int status, std::string_view message);
  void refuse_early(Connection& c, int status, std::string_view message, bool expects);
  void parse_error(Connection& c);
  // The request's response is complete (or cut short: `failed`): metrics and the access log.
  void observe(Connection& c, int status, bool failed, std::uint64_t response_bytes);
  Response handle(Connection& c);
  static void compact(Connection& c);
  static bool should_linger(const Connection& c);
  // A connection's socket is closed: it no longer counts, for the server or for its client.
  void forget(const ClientAddress& client);

  // Event loop side (loop_side.cc).
  void run_loop(Loop& loop);
  void accept_all(Loop& loop);
  bool evict_oldest_idle(Loop& loop);
  void adopt(Loop& loop, int fd, const ClientAddress& client);
  void on_event(Loop& loop, Connection& c, std::uint32_t events);
  bool read_available(Loop& loop, Connection& c, bool& more, bool hangup);
  bool process(Connection& c);
  void hand_off(Loop& loop, Connection& c);
  bool flush(Connection& c);
  void close_connection(Loop& loop, Connection& c);
  void end_connection(Loop& loop, Connection& c);
  void linger(Loop& loop, Connection& c);
  void take_returned(Loop& loop);
  void sweep(Loop& loop);
  void close_idle(Loop& loop);

  // Worker side (worker_side.cc).
  void serve_away(Connection& c);
  bool serve_request(Connection& c);
  bool advance(Connection& c);
  bool flush_blocking(Connection& c);
  BodyRead read_body(Connection& c, const ChunkSink& sink);
  void stream_response(Connection& c, Response&& response);

  ServeOptions options_;
  // The service shares encoder batches between requests: they wait for each other. Set by the model.
  std::atomic<bool> batching_;
  Service service_;
  std::unique_ptr<AccessLog> access_log_;  // null when there is none
  std::vector<std::unique_ptr<Loop>> loops_;
  ClientLimits clients_;
  Workers workers_;
  std::mutex bind_mutex_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> shut_down_{false};
  std::atomic<int> open_{0};
  std::atomic<std::uint64_t> buffered_{0};  // body bytes reserved by requests (ServeOptions::max_buffered_bodies)
  std::atomic<std::size_t> next_loop_{0};
};

}  // namespace logclf::server
