#include "server/http_util.h"

#include <http_parser.h>
#include <zlib.h>

#include <charconv>
#include <climits>
#include <ctime>
#include <new>

namespace logclf::server::http {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

void append_number(std::string& out, std::uint64_t n) {
  char digits[24];
  out.append(digits, std::to_chars(digits, digits + sizeof digits, n).ptr);
}

std::string_view reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    default: return "Unknown";
  }
}

// "HTTP/1.1 200 OK\r\n".
void append_status_line(std::string& out, int status) {
  out += "HTTP/1.1 ";
  append_number(out, static_cast<std::uint64_t>(status));
  out += ' ';
  out += reason(status);
  out += "\r\n";
}

// The message of an error the transport answers by itself.
std::string transport_error(int status, std::size_t max_body) {
  switch (status) {
    case 400: return "malformed HTTP request";
    case 413: return "request body larger than " + std::to_string(max_body) + " bytes";
    case 414: return "request target too long";
    case 431: return "request header fields too large";
    default: return "HTTP error " + std::to_string(status);
  }
}

// The Date header's value, rendered at most once a second per thread.
std::string_view http_date() {
  thread_local std::time_t rendered = -1;
  thread_local char text[64];
  thread_local std::size_t size = 0;
  const std::time_t now = std::time(nullptr);
  if (now != rendered) {
    std::tm tm{};
    ::gmtime_r(&now, &tm);
    size = std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    rendered = now;
  }
  return {text, size};
}

// ---- compression ----------------------------------------------------------------------------------

// The types worth compressing: text. (Images other than SVG, and archives, are compressed already.)
bool compressible(std::string_view content_type) {
  const std::string_view type = trim(content_type.substr(0, content_type.find(';')));
  return (type.starts_with("text/") && type != "text/event-stream") || type == "application/json" ||
         type == "application/javascript" || type == "application/xml" || type == "image/svg+xml";
}

// Whether an Accept-Encoding value accepts gzip: listed (or "*") without q=0.
bool accepts_gzip(std::string_view accept_encoding) {
  for (std::size_t start = 0; start <= accept_encoding.size();) {
    std::size_t end = accept_encoding.find(',', start);
    if (end == accept_encoding.npos) end = accept_encoding.size();
    const std::string_view item = accept_encoding.substr(start, end - start);
    start = end + 1;
    const std::size_t semicolon = item.find(';');
    const std::string_view coding = trim(item.substr(0, semicolon));
    if (!equal_ignoring_case(coding, "gzip") && !equal_ignoring_case(coding, "x-gzip") && coding != "*") continue;
    if (semicolon == item.npos) return true;
    std::string_view q = trim(item.substr(semicolon + 1));
    if (!q.starts_with("q=") && !q.starts_with("Q=")) return true;
    q.remove_prefix(2);
    return q.find_first_not_of("0.") != q.npos;  // q=0, q=0.0, q=0.000: refused
  }
  return false;
}

// `data` in the gzip format (zlib, at its default level); nullopt when zlib fails.
std::optional<std::string> gzip(std::string_view data) {
  if (data.size() > UINT_MAX / 2) return std::nullopt;
  z_stream z{};
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return std::nullopt;
  std::string out(deflateBound(&z, static_cast<uLong>(data.size())), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) return std::nullopt;
  return out;
}

// ---- request targets --------------------------------------------------------------------------------

// Percent-decoded `text` ("+" as a space in query strings); malformed escapes are kept as they are.
// By hand: http-parser splits the target but does not decode it, and curl_easy_unescape() needs a curl
// handle and does not read "+" as a space.
std::string decode(std::string_view text, bool plus_as_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else {
      out += plus_as_space && c == '+' ? ' ' : c;
    }
  }
  return out;
}

// The decoded path and query parameters of a request target (origin form "/path?query", or absolute form).
void parse_target(std::string_view target, Request& request) {
  std::string_view path = target, query;
  if (target.starts_with('/')) {
    path = target.substr(0, target.find('#'));
    if (const std::size_t q = path.find('?'); q != path.npos) {
      query = path.substr(q + 1);
      path = path.substr(0, q);
    }
  } else {
    http_parser_url url;
    http_parser_url_init(&url);
    if (http_parser_parse_url(target.data(), target.size(), 0, &url) == 0) {
      auto field = [&](int f) {
        return (url.field_set & (1 << f)) ? target.substr(url.field_data[f].off, url.field_data[f].len) : std::string_view();
      };
      path = field(UF_PATH);
      query = field(UF_QUERY);
      if (path.empty()) path = "/";
    }
  }
  request.path = decode(path, false);
  for (std::size_t start = 0; start < query.size();) {
    std::size_t end = query.find('&', start);
    if (end == query.npos) end = query.size();
    const std::string_view item = query.substr(start, end - start);
    start = end + 1;
    if (item.empty()) continue;
    const std::size_t equals = item.find('=');
    request.query.emplace_back(decode(item.substr(0, equals), true),
                               equals == item.npos ? std::string() : decode(item.substr(equals + 1), true));
  }
}

std::optional<std::string> content_coding(std::string_view value, bool& unsupported) {
  unsupported = false;
  const std::string_view coding = trim(value);
  if (coding.empty() || equal_ignoring_case(coding, "identity")) return std::nullopt;
  if (equal_ignoring_case(coding, "gzip") || equal_ignoring_case(coding, "x-gzip")) return "gzip";
  if (equal_ignoring_case(coding, "deflate")) return "deflate";
  unsupported = true;
  return std::nullopt;
}

struct BodyInflater::Stream {
  z_stream z{};
};

BodyInflater::BodyInflater(bool gzip) : z_(std::make_unique<Stream>()), gzip_(gzip) {
  // gzip: window bits 15 + 16; deflate: chosen on the first byte (zlib header or raw), see feed().
  if (gzip_) {
    if (inflateInit2(&z_->z, 15 + 16) != Z_OK) throw std::bad_alloc();
    started_ = true;
  }
}

BodyInflater::~BodyInflater() {
  if (started_) inflateEnd(&z_->z);
}

std::string BodyInflater::feed(std::string_view piece, const std::function<bool(std::string_view)>& out) {
  const std::string name = gzip_ ? "gzip" : "deflate";
  if (piece.empty()) return "";
  if (!started_) {
    // A zlib stream's first two bytes say deflate (0x?8) and pass the header's check; anything else is taken
    // for raw deflate. Decided on two bytes, however the body is cut into pieces.
    first_.append(piece);
    if (first_.size() < 2) return "";
    const auto b0 = static_cast<unsigned char>(first_[0]), b1 = static_cast<unsigned char>(first_[1]);
    const bool zlib = (b0 & 0x0f) == 8 && ((b0 << 8) | b1) % 31 == 0;
    if (inflateInit2(&z_->z, zlib ? 15 : -15) != Z_OK) throw std::bad_alloc();
    started_ = true;
    const std::string first = std::move(first_);
    return feed(first, out);
  }
  if (finished_ && !gzip_) return "data after the end of the deflate body";
  thread_local std::string buffer(256 << 10, '\0');
  z_stream& z = z_->z;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(piece.data()));
  z.avail_in = static_cast<uInt>(piece.size());
  for (;;) {
    if (finished_) {
      if (z.avail_in == 0) break;
      if (!gzip_) return "data after the end of the deflate body";
      if (inflateReset(&z) != Z_OK) return "malformed gzip body";  // another gzip member follows
      finished_ = false;
    }
    z.next_out = reinterpret_cast<Bytef*>(buffer.data());
    z.avail_out = static_cast<uInt>(buffer.size());
    const uInt available = z.avail_in;
    const int rc = inflate(&z, Z_NO_FLUSH);
    in_ += available - z.avail_in;  // the ratio is of what was decompressed so far, not of what was sent
    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) return "malformed " + name + " body";
    const std::size_t produced = buffer.size() - z.avail_out;
    out_ += produced;
    if (out_ > (std::uint64_t{1} << 20) && out_ > kMaxRatio * in_)
      return "the " + name + " body expands more than " + std::to_string(kMaxRatio) + " times";
    if (produced > 0 && !out(std::string_view(buffer.data(), produced))) return "";
    if (rc == Z_STREAM_END) {
      finished_ = true;
    } else if (z.avail_out != 0) {
      break;  // every byte of input taken and all its output passed on
    }
  }
  return "";
}

bool RequestHeadChecker::feed(std::string_view bytes) {
  for (const char b : bytes) {
    if (failed_) return false;
    if (after_cr_) {
      after_cr_ = false;
      if (b != '\n') return failed_ = true, false;  // a bare CR
      if (!line_empty_) in_request_line_ = false;
      line_start_ = line_empty_ = true;
    } else if (b == '\r') {
      after_cr_ = true;
    } else if (b == '\n') {
      return failed_ = true, false;  // a bare LF
    } else {
      if (line_start_ && !in_request_line_ && (b == ' ' || b == '\t')) return failed_ = true, false;
      line_start_ = line_empty_ = false;
    }
  }
  return !failed_;
}

std::string framing_problem(const Request& request, bool http10) {
  int encodings = 0;
  bool length = false;
  std::string_view coding;
  for (const auto& [name, value] : request.headers) {
    if (equal_ignoring_case(name, "Transfer-Encoding")) {
      ++encodings;
      coding = trim(value);
    } else if (equal_ignoring_case(name, "Content-Length")) {
      length = true;
    }
  }
  if (encodings == 0) return "";
  if (encodings > 1 || !equal_ignoring_case(coding, "chunked"))
    return "unsupported Transfer-Encoding: only a single 'chunked' is accepted";
  if (http10) return "Transfer-Encoding in an HTTP/1.0 request";
  if (length) return "both Transfer-Encoding and Content-Length";
  return "";
}

}  // namespace logclf::server::http
