// A request served on a worker thread with blocking I/O (socket_io.h's blocking forms): bodies read as
// they arrive, streamed answers, large or compressed bodies, batched classification. The connection then
// goes back to its loop, which reads the next request, or closes it (lingering first where needed).
#include <unistd.h>

#include <cstdio>

#include "server/socket_io.h"
#include "server/transport.h"

namespace logclf::server {

using namespace http;

// Serves the connection's current request, then hands the connection back to its loop (closed when it
// broke).
void Transport::serve_away(Connection& c) {
  bool ok = false;
  try {
    ok = serve_request(c);
  } catch (...) {  // out of memory: this connection ends
    ok = false;
  }
  if (!ok) {
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
    Response response = std::move(*c.pending);
    c.pending.reset();
    stream_response(c, std::move(response));
  } else if (ok && !c.answered) {
    if (c.streams) {
      // The service reads the body while it answers (NDJSON) or before (uploads): read_body stays valid
      // until the answer is written.
      c.request.read_body = [this, &c](const ChunkSink& sink) { return read_body(c, sink); };
      Response response = handle(c);
      if (response.stream) {
        stream_response(c, std::move(response));
      } else {
        respond(c, std::move(response), false);
      }
      c.request.read_body = nullptr;
      if (c.phase == Phase::body && !c.parse_failed) {
        // Answered without reading all of the body: the rest is drained after the answer.
        c.closing = true;
        c.body = Body::drain;
        c.enter(Phase::draining);
      }
    } else {
      while (c.phase != Phase::done && advance(c)) {
      }
      if (c.phase == Phase::done && !c.answered) complete_request(c, false);
    }
  }
  ok = ok && flush_blocking(c);
  while (ok && c.phase == Phase::draining && advance(c)) {
  }
  if (!c.answered && c.phase != Phase::done) c.closing = true;  // the client went away mid-request
  compact(c);
  return ok;
}

// Parses on to the parser's next event, reading as needed; false at the end of the input, after a
// timeout, or when the request is malformed.
bool Transport::advance(Connection& c) {
  thread_local const std::unique_ptr<char[]> buffer = std::make_unique<char[]>(kReadBytes);
  for (;;) {
    if (!c.unparsed()) {
      c.in.clear();
      c.in_pos = 0;
      const Io io = read_blocking(c.fd, c.in, buffer.get(), kReadBytes, kReadTimeout);
      if (io != Io::done) {
        c.peer_closed = c.peer_closed || io == Io::closed;
        c.closing = true;
        c.stop_reading();
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

bool Transport::flush_blocking(Connection& c) {
  const bool ok = write_all(c.fd, std::string_view(c.out).substr(c.out_pos), kWriteTimeout);
  c.out.clear();
  c.out_pos = 0;
  return ok;
}

// Request::read_body: passes the body to `sink` as it arrives (for multipart/form-data, the part named
// "file"); after a refusal the rest is drained (up to kDrainBytes) so that the answer reaches the client.
BodyRead Transport::read_body(Connection& c, const ChunkSink& sink) {
  if (c.body != Body::buffer) return BodyRead::failed;  // read once
  c.body = Body::sink;
  c.sink = &sink;
  while (c.phase != Phase::done && advance(c)) {
  }
  c.sink = nullptr;
  if (c.sink_refused) {
    c.closing = true;
    return BodyRead::stopped;
  }
  if (c.phase == Phase::done && !c.body_failed && (!c.multipart || c.multipart->complete()) &&
      (!c.inflater || c.inflater->finished())) {
    c.body = Body::drain;
    return BodyRead::complete;
  }
  c.closing = true;
  return BodyRead::failed;
}

// Writes a streamed response with chunked transfer encoding (HTTP/1.0: until the connection closes).
void Transport::stream_response(Connection& c, Response&& response) {
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
  std::uint64_t sent = 0;  // body bytes
  if (ok && !c.head_method) {
    try {
      ok = response.stream([&](std::string_view piece) {
        if (piece.empty()) return true;
        sent += piece.size();
        if (c.http10) return write_all(c.fd, piece, kWriteTimeout);
        char size[24];
        const int n = std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
        iovec iov[3] = {{size, static_cast<std::size_t>(n)},
                        {const_cast<char*>(piece.data()), piece.size()},
                        {const_cast<char*>("\r\n"), 2}};
        return write_all(c.fd, iov, 3, kWriteTimeout);
      });
    } catch (...) {
      ok = false;
    }
    if (ok && !c.http10) ok = write_all(c.fd, "0\r\n\r\n", kWriteTimeout);
  }
  c.answered = true;
  // A body cut short ends the connection, which tells the client it is incomplete.
  if (close || !ok) c.closing = true;
  observe(c, response.status, !ok, sent);
}

}  // namespace logclf::server
