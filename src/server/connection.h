// One client connection of the HTTP transport: its buffers, the request being read, and where that request
// stands (Phase, with its allowed transitions in Connection::enter()). The parser callbacks that fill it
// are in connection.cc; what is done with a request is Transport's (transport.h).
#pragma once

#include <http_parser.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "server/client_limits.h"
#include "server/http_util.h"
#include "server/multipart.h"
#include "server/service.h"

namespace logclf::server {

using Clock = std::chrono::steady_clock;

struct Loop;
class Transport;

inline constexpr std::size_t kMaxFormParts = 16;
// The request line and headers together (431 above), and the request target alone (414 above: the limit
// of the HTTP library this transport replaced).
inline constexpr std::size_t kMaxHeaderBytes = 64 << 10;
inline constexpr std::size_t kMaxTargetBytes = 8 << 10;
// Buffers grown beyond this by one large request are given back once it is done.
inline constexpr std::size_t kKeptCapacity = 256 << 10;

// Where the connection's current request stands. The transitions (checked by Connection::enter):
//   waiting, done → head    the first byte of a request (its first on this connection, or the next)
//   head → body             its headers are complete (a request without a body passes through body too)
//   body → draining         it was answered before its body ended: the rest is read and dropped
//   head, body, draining → done
//                           its message is complete
//   any but lingering → stopped
//                           nothing more is read from the connection: the request is malformed, its body
//                           broke off or will not come, or the client closed; it closes after the answer
//   any but lingering → lingering
//                           answered and shut for writing: what still arrives is dropped, then it closes
enum class Phase { waiting, head, body, draining, done, stopped, lingering };
std::string_view to_string(Phase phase);
// Whether `from` → `to` is one of the transitions above.
bool transition_allowed(Phase from, Phase to);

// Which thread serves the connection.
enum class Owner {
  loop,     // its event loop
  leaving,  // its loop, which hands it to a worker thread after the current step
  worker,   // a worker thread, with blocking I/O: the loop leaves it alone until it is handed back
};

// Where a request's body goes.
enum class Body {
  buffer,  // into Request::body or, for multipart/form-data, Request::files
  sink,    // to the service's sink as it arrives (Request::read_body)
  drain,   // nowhere: the request has been answered
};

// What the parser's callbacks stopped at (they pause it, so that the request is handled between calls of
// http_parser_execute() and never inside one).
enum class Event { none, headers, message };

const http_parser_settings& parser_settings();

struct Connection final : MultipartParser::Handler {
  Connection(int socket, const ClientAddress& address, Loop* owner, Transport* server);

  // MultipartParser::Handler: parts into Request::files, or the part named "file" to the sink.
  bool part(const PartHeaders& headers) override;
  bool data(std::string_view piece) override;

  // Moves the request to `next`; a transition not listed at Phase is a bug (asserted).
  void enter(Phase next);
  bool reading_head() const { return phase == Phase::waiting || phase == Phase::head; }
  bool in_body() const { return phase == Phase::body || phase == Phase::draining; }
  bool in_request() const { return phase == Phase::head || in_body(); }
  bool between_requests() const { return phase == Phase::waiting || phase == Phase::done; }
  // Nothing more will be read: it was stopped, or the client has closed its side.
  void stop_reading() {
    if (phase != Phase::lingering && phase != Phase::done) enter(Phase::stopped);
  }
  bool unsent() const { return out_pos < out.size(); }
  bool unparsed() const { return in_pos < in.size(); }

  // Clears what belonged to the previous request and enters Phase::head.
  void begin_request();

  int fd;
  ClientAddress client;
  Loop* loop;
  Transport* transport;
  std::size_t index = 0;  // in loop->connections
  Owner owner = Owner::loop;
  http_parser parser;
  http::RequestHeadChecker head_check;  // what http-parser lets through in a request head
  std::string in;                       // received, parsed from in_pos
  std::size_t in_pos = 0;
  std::string out;  // to send, from out_pos
  std::size_t out_pos = 0;
  Clock::time_point last_active;
  Clock::time_point head_started;  // of the current request, or when the connection was accepted

  // Of the connection as a whole.
  bool closing = false;      // no more requests: close once `out` is written (and a drain is done)
  bool peer_closed = false;  // the client closed its side
  bool parse_failed = false;
  bool read_paused = false;  // not read while `in` holds kMaxBufferedInput
  bool evicted = false;      // closed to make room at the connection cap, once the current events are handled
  std::size_t drained = 0;   // bytes dropped while draining a body or lingering

  // The request being read.
  Phase phase = Phase::waiting;
  bool answered = false;  // its response is written or queued
  Event event = Event::none;
  Request request;
  std::string target;
  std::size_t header_bytes = 0;
  bool header_value = false;  // the last header callback was for a value
  int limit_status = 0;       // 414 or 431 when the callbacks refused the request line or headers
  std::optional<Clock::time_point> start;  // when its headers were read
  std::optional<Metrics::InFlight> in_flight;  // from its headers to the end of its response
  bool keep_alive = true;
  bool http10 = false;
  bool head_method = false;  // HEAD: answered without a body
  bool gzip_ok = false;
  bool streams = false;  // its route reads the body as it arrives

  Body body = Body::buffer;
  std::uint64_t body_bytes = 0;
  std::optional<MultipartParser> multipart;
  std::optional<http::BodyInflater> inflater;  // a gzip or deflate body is decompressed as it arrives
  std::uint64_t reserved = 0;                  // bytes of the server's body budget this request holds
  const ChunkSink* sink = nullptr;
  bool in_file = false;
  bool too_many_parts = false;
  bool sink_refused = false;
  bool body_failed = false;           // the body could not be passed on (an exception)
  std::optional<Response> pending;    // a streamed response for the worker to write
};

}  // namespace logclf::server
