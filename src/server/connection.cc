#include "server/connection.h"

#include <cassert>

#include "server/transport.h"

namespace logclf::server {

std::string_view to_string(Phase phase) {
  switch (phase) {
    case Phase::waiting: return "waiting";
    case Phase::head: return "head";
    case Phase::body: return "body";
    case Phase::draining: return "draining";
    case Phase::done: return "done";
    case Phase::stopped: return "stopped";
    case Phase::lingering: return "lingering";
  }
  return "?";
}

bool transition_allowed(Phase from, Phase to) {
  switch (to) {
    case Phase::head: return from == Phase::waiting || from == Phase::done;
    case Phase::body: return from == Phase::head;
    case Phase::draining: return from == Phase::body;
    case Phase::done: return from == Phase::head || from == Phase::body || from == Phase::draining;
    case Phase::stopped:
    case Phase::lingering: return from != Phase::lingering;
    case Phase::waiting: return false;
  }
  return false;
}

namespace {

Connection& of(http_parser* p) { return *static_cast<Connection*>(p->data); }

// ---- parser callbacks (inside http_parser_execute: they only record, and pause at events) ----

int on_message_begin(http_parser* p) {
  Connection& c = of(p);
  c.transport->release_body(c);
  c.begin_request();
  c.head_started = Clock::now();
  return 0;
}

int on_url(http_parser* p, const char* at, std::size_t n) {
  Connection& c = of(p);
  c.header_bytes += n;
  c.target.append(at, n);
  if (c.target.size() > kMaxTargetBytes) {
    c.limit_status = 414;
    return 1;
  }
  return c.header_bytes > kMaxHeaderBytes ? (c.limit_status = 431, 1) : 0;
}

int on_header_field(http_parser* p, const char* at, std::size_t n) {
  Connection& c = of(p);
  if ((c.header_bytes += n) > kMaxHeaderBytes) return c.limit_status = 431, 1;
  if (!c.reading_head()) return 0;  // trailers of a chunked body: not used
  if (c.header_value || c.request.headers.empty()) c.request.headers.emplace_back();
  c.header_value = false;
  c.request.headers.back().first.append(at, n);
  return 0;
}

int on_header_value(http_parser* p, const char* at, std::size_t n) {
  Connection& c = of(p);
  if ((c.header_bytes += n) > kMaxHeaderBytes) return c.limit_status = 431, 1;
  if (!c.reading_head()) return 0;
  c.header_value = true;
  c.request.headers.back().second.append(at, n);
  return 0;
}

int on_headers_complete(http_parser* p) {
  Connection& c = of(p);
  c.enter(Phase::body);
  c.event = Event::headers;
  http_parser_pause(p, 1);
  return 0;
}

int on_body(http_parser* p, const char* at, std::size_t n) {
  Connection& c = of(p);
  try {
    return c.transport->body_piece(c, {at, n}) ? 0 : 1;
  } catch (...) {
    c.body_failed = true;
    return 1;
  }
}

int on_message_complete(http_parser* p) {
  Connection& c = of(p);
  c.enter(Phase::done);
  c.head_check.reset();
  c.event = Event::message;
  http_parser_pause(p, 1);
  return 0;
}

}  // namespace

const http_parser_settings& parser_settings() {
  static const http_parser_settings settings = [] {
    http_parser_settings s{};
    s.on_message_begin = on_message_begin;
    s.on_url = on_url;
    s.on_header_field = on_header_field;
    s.on_header_value = on_header_value;
    s.on_headers_complete = on_headers_complete;
    s.on_body = on_body;
    s.on_message_complete = on_message_complete;
    return s;
  }();
  return settings;
}

Connection::Connection(int socket, const ClientAddress& address, Loop* owner_loop, Transport* server)
    : fd(socket), client(address), loop(owner_loop), transport(server) {
  http_parser_init(&parser, HTTP_REQUEST);
  parser.data = this;
}

void Connection::enter(Phase next) {
  assert(transition_allowed(phase, next) && "a request phase transition not listed at Phase");
  phase = next;
}

bool Connection::part(const PartHeaders& headers) {
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

bool Connection::data(std::string_view piece) {
  if (body == Body::sink) {
    if (!in_file || (*sink)(piece)) return true;
    sink_refused = true;
    return false;
  }
  request.files.back().content.append(piece);
  return true;
}

void Connection::begin_request() {
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
  enter(Phase::head);
  answered = false;
  start.reset();
  in_flight.reset();
  body = Body::buffer;
  body_bytes = drained = 0;
  multipart.reset();
  in_file = too_many_parts = sink_refused = body_failed = false;
  streams = false;
  inflater.reset();
}

}  // namespace logclf::server
