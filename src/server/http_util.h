// Pure pieces of HTTP/1.1 that the transport (http_server.cc) uses: status lines, the Date header,
// response compression and request targets. No sockets and no state, so each is unit-tested on its own.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "server/service.h"
#include "util/ascii.h"

namespace logclf::server::http {

using util::equal_ignoring_case;
using util::trim;
void append_number(std::string& out, std::uint64_t n);

// The reason phrase of a status code ("Not Found"); "Unknown" for codes the server never sends.
std::string_view reason(int status);
// "HTTP/1.1 200 OK\r\n".
void append_status_line(std::string& out, int status);
// The message of an error the transport answers by itself (400, 413, 414, 431, ...).
std::string transport_error(int status, std::size_t max_body);
// The Date header's value (RFC 9110 IMF-fixdate) for now, rendered at most once a second per thread.
std::string_view http_date();

// Whether a response of this Content-Type is worth compressing: text, JSON, JavaScript, XML, SVG.
bool compressible(std::string_view content_type);
// Whether an Accept-Encoding value accepts gzip: listed (or "*") without q=0.
bool accepts_gzip(std::string_view accept_encoding);
// `data` in the gzip format (zlib, at its default level); nullopt when zlib fails.
std::optional<std::string> gzip(std::string_view data);

// A request body's Content-Encoding that the server decodes, from the header's value: nullopt for none
// ("" or "identity"), "gzip" (also "x-gzip") or "deflate"; `unsupported` is set for anything else.
std::optional<std::string> content_coding(std::string_view value, bool& unsupported);

// Decompresses a gzip or deflate request body as it arrives, in bounded pieces, with a guard against
// bombs: past the first MiB, the output may be at most kMaxRatio times the input so far. gzip may hold
// several members one after another (as concatenated .gz files do); deflate is zlib-wrapped, or raw as
// some clients send it.
class BodyInflater {
 public:
  static constexpr std::uint64_t kMaxRatio = 1024;
  explicit BodyInflater(bool gzip);
  ~BodyInflater();
  BodyInflater(const BodyInflater&) = delete;
  BodyInflater& operator=(const BodyInflater&) = delete;

  // Passes what `piece` decompresses to on to `out`, in pieces of at most 256 KiB; stops when `out` returns
  // false. Returns why the body is refused ("malformed gzip body", the ratio), or empty.
  std::string feed(std::string_view piece, const std::function<bool(std::string_view)>& out);
  // The compressed stream has ended (a body that stops before is truncated).
  bool finished() const { return finished_; }
  bool gzip() const { return gzip_; }

 private:
  struct Stream;
  std::unique_ptr<Stream> z_;
  bool gzip_;
  bool started_ = false;  // deflate: whether the zlib header was looked for
  std::string first_;     // deflate: the body's first bytes until there are two to look at
  bool finished_ = false;
  std::uint64_t in_ = 0, out_ = 0;
};

// Percent-decoded `text` ("+" as a space when `plus_as_space`, as in query strings); malformed escapes
// are kept as they are.
std::string decode(std::string_view text, bool plus_as_space);
// Fills request.path and request.query from a request target: origin form "/path?query" (a fragment is
// dropped) or absolute form "http://host/path?query".
void parse_target(std::string_view target, Request& request);

// Checks the bytes of a request head (request line and header lines, as they arrive, in any pieces) for
// what http-parser accepts but RFC 9112 lets a server reject, and a proxy in front may read differently
// (request smuggling): a bare LF or bare CR as a line end, and a header line starting with a space or tab
// (obs-fold, or whitespace before the first header). Empty lines before the request line are allowed.
class RequestHeadChecker {
 public:
  // False once the head seen so far has one of those; stays false until reset().
  bool feed(std::string_view bytes);
  // For the next request's head.
  void reset() { *this = RequestHeadChecker(); }

 private:
  bool failed_ = false;
  bool after_cr_ = false;
  bool line_start_ = true;
  bool line_empty_ = true;
  bool in_request_line_ = true;  // no non-empty line ended yet
};

// Why a request's framing is ambiguous, or empty when it is not: a Transfer-Encoding other than exactly
// one "chunked", chunked in HTTP/1.0 (which has no chunked coding), or Transfer-Encoding together with
// Content-Length. Such a request is refused with 400 and its connection closed, as nginx and h11 do.
std::string framing_problem(const Request& request, bool http10);

}  // namespace logclf::server::http
