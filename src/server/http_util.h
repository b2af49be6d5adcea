// Pure pieces of HTTP/1.1 that the transport (http_server.cc) uses: status lines, the Date header,
// response compression and request targets. No sockets and no state, so each is unit-tested on its own.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "server/service.h"

namespace logclf::server::http {

bool equal_ignoring_case(std::string_view a, std::string_view b);
// Without leading and trailing spaces and tabs (HTTP's optional whitespace).
std::string_view trim(std::string_view s);
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

// Percent-decoded `text` ("+" as a space when `plus_as_space`, as in query strings); malformed escapes
// are kept as they are.
std::string decode(std::string_view text, bool plus_as_space);
// Fills request.path and request.query from a request target: origin form "/path?query" (a fragment is
// dropped) or absolute form "http://host/path?query".
void parse_target(std::string_view target, Request& request);

}  // namespace logclf::server::http
