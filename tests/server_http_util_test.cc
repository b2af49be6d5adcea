// The transport's pure HTTP pieces (server/http_util.h), each against hand-written expectations.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdint>
#include <ctime>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "server/http_util.h"

namespace logclf::server::http {
namespace {

TEST(HttpUtil, StatusLinesAndReasons) {
  std::string out;
  append_status_line(out, 404);
  append_status_line(out, 503);
  EXPECT_EQ(out, "HTTP/1.1 404 Not Found\r\nHTTP/1.1 503 Service Unavailable\r\n");
  EXPECT_EQ(reason(431), "Request Header Fields Too Large");
  EXPECT_EQ(reason(299), "Unknown");
  EXPECT_EQ(transport_error(413, 1024), "request body larger than 1024 bytes");
}

TEST(HttpUtil, DateIsAnImfFixdateOfNow) {
  const std::time_t before = std::time(nullptr);
  const std::string date(http_date());
  const std::time_t after = std::time(nullptr);
  EXPECT_TRUE(std::regex_match(date, std::regex(R"((Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT)")))
      << date;
  std::tm tm{};
  ASSERT_NE(::strptime(date.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm), nullptr);
  const std::time_t parsed = ::timegm(&tm);
  EXPECT_GE(parsed, before);
  EXPECT_LE(parsed, after);
}

TEST(HttpUtil, AcceptEncodingGzip) {
  for (const char* yes : {"gzip", "GZIP", "x-gzip", "*", "deflate, gzip;q=0.5", "br ,  gzip", "gzip;q=1", "gzip; q=0.001"})
    EXPECT_TRUE(accepts_gzip(yes)) << yes;
  for (const char* no : {"", "br", "deflate", "gzip;q=0", "gzip;q=0.000", "identity", "gzipped"})
    EXPECT_FALSE(accepts_gzip(no)) << no;
}

TEST(HttpUtil, CompressibleTypes) {
  for (const char* yes : {"text/html; charset=utf-8", "text/csv", "application/json", "image/svg+xml", "application/javascript"})
    EXPECT_TRUE(compressible(yes)) << yes;
  for (const char* no : {"image/png", "application/gzip", "text/event-stream", "application/octet-stream"})
    EXPECT_FALSE(compressible(no)) << no;
}

// zlib's own inflate, in gzip mode: the independent reader of what gzip() wrote.
std::string gunzip(const std::string& data) {
  z_stream z{};
  EXPECT_EQ(inflateInit2(&z, 15 + 16), Z_OK);
  std::string out(1 << 20, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(inflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  inflateEnd(&z);
  return out;
}

TEST(HttpUtil, GzipRoundTrips) {
  std::string text;
  for (int i = 0; i < 2000; ++i) text += "log_message,predicted_label\nUser " + std::to_string(i) + " logged in,User Action\n";
  const auto compressed = gzip(text);
  ASSERT_TRUE(compressed);
  EXPECT_LT(compressed->size(), text.size() / 5);
  EXPECT_EQ(compressed->substr(0, 2), "\x1f\x8b");  // the gzip magic
  EXPECT_EQ(gunzip(*compressed), text);
  EXPECT_EQ(gunzip(*gzip("")), "");
}

TEST(HttpUtil, PercentDecoding) {
  EXPECT_EQ(decode("%41%2fb+c", false), "A/b+c");
  EXPECT_EQ(decode("%41%2fb+c", true), "A/b c");
  EXPECT_EQ(decode("100%", false), "100%");
  EXPECT_EQ(decode("%4", false), "%4");
  EXPECT_EQ(decode("%zz%e2%82%ac", false), "%zz\xe2\x82\xac");
}

TEST(HttpUtil, RequestTargets) {
  Request r;
  parse_target("/v1/classify%2Fcsv?explain=true&&name=a%20b+c&flag#fragment?x=1", r);
  EXPECT_EQ(r.path, "/v1/classify/csv");
  ASSERT_EQ(r.query.size(), 3u);
  EXPECT_EQ(r.query[0], (std::pair<std::string, std::string>{"explain", "true"}));
  EXPECT_EQ(r.query[1], (std::pair<std::string, std::string>{"name", "a b c"}));
  EXPECT_EQ(r.query[2], (std::pair<std::string, std::string>{"flag", ""}));
  Request absolute;
  parse_target("http://example.com:8080/health?x=1", absolute);
  EXPECT_EQ(absolute.path, "/health");
  ASSERT_EQ(absolute.query.size(), 1u);
  EXPECT_EQ(absolute.query[0].second, "1");
  Request bare;
  parse_target("http://example.com", bare);
  EXPECT_EQ(bare.path, "/");
}

// zlib's deflate with the given window bits (15 + 16: gzip, 15: zlib, -15: raw deflate).
std::string compress(const std::string& data, int window_bits, int level = Z_DEFAULT_COMPRESSION) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, level, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, static_cast<uLong>(data.size())), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// Feeds `body` in pieces of `step` bytes; the text out, or "error: ..." .
std::string inflate_body(const std::string& body, bool gzip, std::size_t step) {
  BodyInflater inflater(gzip);
  std::string out;
  for (std::size_t at = 0; at < body.size(); at += step) {
    const std::string problem = inflater.feed(std::string_view(body).substr(at, step), [&](std::string_view piece) {
      EXPECT_LE(piece.size(), std::size_t{256} << 10);
      out.append(piece);
      return true;
    });
    if (!problem.empty()) return "error: " + problem;
  }
  return inflater.finished() ? out : "error: truncated";
}

TEST(HttpUtil, CompressedBodiesAreDecompressedWhateverTheirPieces) {
  std::string text;
  for (int i = 0; i < 30000; ++i) text += "{\"log_message\":\"User User" + std::to_string(i) + " logged in\"}\n";
  for (const std::size_t step : {std::size_t{1} << 20, std::size_t{4096}, std::size_t{7}}) {
    EXPECT_EQ(inflate_body(compress(text, 15 + 16), true, step), text) << step;
    EXPECT_EQ(inflate_body(compress(text, 15), false, step), text) << step;   // zlib-wrapped deflate
    EXPECT_EQ(inflate_body(compress(text, -15), false, step), text) << step;  // raw deflate
  }
  // A zlib header split over two pieces is still recognised.
  EXPECT_EQ(inflate_body(compress("zlib, a byte at a time\n", 15), false, 1), "zlib, a byte at a time\n");
  EXPECT_EQ(inflate_body(compress("raw, a byte at a time\n", -15), false, 1), "raw, a byte at a time\n");
  // Concatenated gzip members are one body, as for concatenated .gz files.
  EXPECT_EQ(inflate_body(compress("first\n", 15 + 16) + compress("second\n", 15 + 16), true, 5), "first\nsecond\n");
  bool unsupported = true;
  EXPECT_EQ(content_coding(" GZIP ", unsupported), "gzip");
  EXPECT_EQ(content_coding("x-gzip", unsupported), "gzip");
  EXPECT_EQ(content_coding("deflate", unsupported), "deflate");
  EXPECT_EQ(content_coding("identity", unsupported), std::nullopt);
  EXPECT_FALSE(unsupported);
  EXPECT_EQ(content_coding("br", unsupported), std::nullopt);
  EXPECT_TRUE(unsupported);
  EXPECT_EQ(content_coding("gzip, gzip", unsupported), std::nullopt);
  EXPECT_TRUE(unsupported);
}

TEST(HttpUtil, BrokenOrBombLikeCompressedBodiesAreRefused) {
  const std::string text(100000, 'x');
  const std::string gz = compress(text, 15 + 16);
  EXPECT_EQ(inflate_body("not gzip at all", true, 4), "error: malformed gzip body");
  EXPECT_EQ(inflate_body(gz.substr(0, gz.size() / 2), true, 100), "error: truncated");
  EXPECT_EQ(inflate_body(compress(text, 15) + "tail", false, 1 << 20), "error: data after the end of the deflate body");
  EXPECT_EQ(inflate_body(gz + "garbage", true, 1 << 20), "error: malformed gzip body");
  // 64 MiB of zeros in 64 KB: more than 1024 times; refused before it is all decompressed.
  const std::string bomb = compress(std::string(std::size_t{64} << 20, '\0'), 15 + 16, 9);
  std::uint64_t passed = 0;
  BodyInflater inflater(true);
  const std::string problem = inflater.feed(bomb, [&](std::string_view piece) { return (passed += piece.size()), true; });
  EXPECT_EQ(problem, "the gzip body expands more than 1024 times") << bomb.size();
  EXPECT_LT(passed, std::uint64_t{4} << 20);  // of 64 MiB
}

// Fed whole and byte by byte, as a head may arrive in any pieces.
bool head_accepted(std::string_view head) {
  RequestHeadChecker whole;
  RequestHeadChecker bytes;
  bool ok = true;
  for (char c : head) ok = bytes.feed(std::string_view(&c, 1)) && ok;
  EXPECT_EQ(whole.feed(head), ok) << head;
  return ok;
}

TEST(HttpUtil, RequestHeadsWithBareLineEndsOrFoldedHeadersAreRefused) {
  EXPECT_TRUE(head_accepted("GET / HTTP/1.1\r\nHost: a\r\nX-Y: b c\t\r\n\r\n"));
  EXPECT_TRUE(head_accepted("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"));  // empty lines first are allowed
  EXPECT_FALSE(head_accepted("GET / HTTP/1.1\nHost: a\r\n\r\n"));         // bare LF after the request line
  EXPECT_FALSE(head_accepted("GET / HTTP/1.1\r\nHost: a\n\r\n"));         // bare LF after a header
  EXPECT_FALSE(head_accepted("GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n"));  // bare CR
  EXPECT_FALSE(head_accepted("GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n"));    // obs-fold
  EXPECT_FALSE(head_accepted("GET / HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n"));  // obs-fold with a tab
  EXPECT_FALSE(head_accepted("GET / HTTP/1.1\r\n Host: a\r\n\r\n"));     // whitespace before the first header
  RequestHeadChecker checker;
  EXPECT_FALSE(checker.feed("GET / HTTP/1.1\n"));
  EXPECT_FALSE(checker.feed("Host: a\r\n\r\n"));  // stays refused
  checker.reset();
  EXPECT_TRUE(checker.feed("GET / HTTP/1.1\r\n\r\n"));
}

std::string framing(std::vector<std::pair<std::string, std::string>> headers, bool http10 = false) {
  Request r;
  r.headers = std::move(headers);
  return framing_problem(r, http10);
}

TEST(HttpUtil, OnlyUnambiguousBodyFramingIsAccepted) {
  EXPECT_EQ(framing({{"Content-Length", "4"}}), "");
  EXPECT_EQ(framing({{"transfer-encoding", " Chunked "}}), "");
  EXPECT_EQ(framing({{"Content-Length", "4"}}, true), "");
  const std::string unsupported = "unsupported Transfer-Encoding: only a single 'chunked' is accepted";
  EXPECT_EQ(framing({{"Transfer-Encoding", "identity, chunked"}}), unsupported);
  EXPECT_EQ(framing({{"Transfer-Encoding", "gzip, chunked"}}), unsupported);
  EXPECT_EQ(framing({{"Transfer-Encoding", "identity"}}), unsupported);
  EXPECT_EQ(framing({{"Transfer-Encoding", "chunked"}, {"Transfer-Encoding", "chunked"}}), unsupported);
  EXPECT_EQ(framing({{"Transfer-Encoding", "chunked"}}, true), "Transfer-Encoding in an HTTP/1.0 request");
  EXPECT_EQ(framing({{"Transfer-Encoding", "chunked"}, {"Content-Length", "3"}}), "both Transfer-Encoding and Content-Length");
}

}  // namespace
}  // namespace logclf::server::http
