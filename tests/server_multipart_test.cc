// The streaming multipart/form-data parser against hand-written bodies, fed whole, split in two at every
// offset, and byte by byte.
#include "server/multipart.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace logclf::server {
namespace {

struct Part {
  PartHeaders headers;
  std::string content;
};

// Records the parts; stops at the part named `stop_at`, if any.
struct Recorder : MultipartParser::Handler {
  std::vector<Part> parts;
  std::string stop_at;
  bool part(const PartHeaders& headers) override {
    if (!stop_at.empty() && headers.name == stop_at) return false;
    parts.push_back({headers, {}});
    return true;
  }
  bool data(std::string_view piece) override {
    EXPECT_FALSE(piece.empty());
    parts.back().content.append(piece);
    return true;
  }
};

struct Outcome {
  std::vector<Part> parts;
  bool ok = true;  // every feed() returned true
  bool complete = false;
  bool failed = false;
};

// Feeds `body` in pieces cut at `cuts` (increasing offsets).
Outcome parse(std::string_view boundary, std::string_view body, const std::vector<std::size_t>& cuts = {}) {
  MultipartParser parser(boundary);
  Recorder recorder;
  Outcome out;
  std::size_t start = 0;
  std::vector<std::size_t> ends = cuts;
  ends.push_back(body.size());
  for (const std::size_t end : ends) {
    out.ok = parser.feed(body.substr(start, end - start), recorder) && out.ok;
    start = end;
  }
  out.parts = recorder.parts;
  out.complete = parser.complete();
  out.failed = parser.failed();
  return out;
}

const std::string kBody =
    "This is the preamble; it is ignored.\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"note\"\r\n"
    "\r\n"
    "hello\r\n"
    "--XyZ  \r\n"  // transport padding after the delimiter
    "content-disposition: form-data; name=\"file\"; filename=\"logs.csv\"\r\n"
    "Content-Type: text/csv\r\n"
    "\r\n"
    "log_message\r\nx --XyZ inline\r\n--Xy!\r\n\r"  // a delimiter's start, not a delimiter
    "\r\n--XyZ--\r\n"
    "This is the epilogue, also ignored: --XyZ\r\n";

void expect_example(const Outcome& out) {
  EXPECT_TRUE(out.ok);
  EXPECT_TRUE(out.complete);
  ASSERT_EQ(out.parts.size(), 2u);
  EXPECT_EQ(out.parts[0].headers.name, "note");
  EXPECT_EQ(out.parts[0].headers.filename, "");
  EXPECT_EQ(out.parts[0].headers.content_type, "");
  EXPECT_EQ(out.parts[0].content, "hello");
  EXPECT_EQ(out.parts[1].headers.name, "file");
  EXPECT_EQ(out.parts[1].headers.filename, "logs.csv");
  EXPECT_EQ(out.parts[1].headers.content_type, "text/csv");
  EXPECT_EQ(out.parts[1].content, "log_message\r\nx --XyZ inline\r\n--Xy!\r\n\r");
}

TEST(Multipart, WholeBody) { expect_example(parse("XyZ", kBody)); }

TEST(Multipart, SplitInTwoAtEveryOffset) {
  for (std::size_t cut = 0; cut <= kBody.size(); ++cut) {
    SCOPED_TRACE(cut);
    expect_example(parse("XyZ", kBody, {cut}));
  }
}

TEST(Multipart, ByteByByte) {
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < kBody.size(); ++i) cuts.push_back(i);
  expect_example(parse("XyZ", kBody, cuts));
}

TEST(Multipart, FirstDelimiterAtTheStartAndEmptyParts) {
  const std::string body =
      "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n\r\n"
      "--b\r\nContent-Disposition: form-data; name=b\r\n\r\n2\r\n--b--";
  const Outcome out = parse("b", body);
  EXPECT_TRUE(out.ok);
  EXPECT_TRUE(out.complete);
  ASSERT_EQ(out.parts.size(), 2u);
  EXPECT_EQ(out.parts[0].headers.name, "a");
  EXPECT_EQ(out.parts[0].content, "");
  EXPECT_EQ(out.parts[1].headers.name, "b");  // an unquoted value
  EXPECT_EQ(out.parts[1].content, "2");
}

TEST(Multipart, FilenameWithQuotesAndSemicolons) {
  const std::string body =
      "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a \\\"quoted\\\"; name.csv\"\r\n\r\n"
      "x\r\n--b--\r\n";
  const Outcome out = parse("b", body);
  EXPECT_TRUE(out.complete);
  ASSERT_EQ(out.parts.size(), 1u);
  EXPECT_EQ(out.parts[0].headers.name, "file");
  EXPECT_EQ(out.parts[0].headers.filename, "a \"quoted\"; name.csv");
}

TEST(Multipart, MissingClosingDelimiterIsIncomplete) {
  const std::string body = "--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nsome content\r\n";
  const Outcome out = parse("b", body);
  EXPECT_TRUE(out.ok);  // nothing wrong so far: more could come
  EXPECT_FALSE(out.complete);
  EXPECT_FALSE(out.failed);
  EXPECT_FALSE(parse("b", "no delimiter at all").complete);
  EXPECT_FALSE(parse("b", "").complete);
}

TEST(Multipart, MalformedBodiesFail) {
  for (const std::string& body : {
           std::string("--b\r\n\r\ncontent without headers\r\n--b--"),
           std::string("--b\r\nContent-Type: text/plain\r\n\r\nno disposition\r\n--b--"),
           std::string("--b\r\nContent-Disposition: attachment; name=\"x\"\r\n\r\nnot form-data\r\n--b--"),
           std::string("--b\r\nContent-Disposition: form-data\r\n\r\nno name\r\n--b--"),
           std::string("--b\r\nContent-Disposition: form-data; name=\"x\r\n\r\nunclosed quote\r\n--b--"),
           std::string("--b\r\nno colon in this header\r\n\r\nx\r\n--b--"),
           std::string("--bX\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n--b--"),  // text after delimiter
       }) {
    SCOPED_TRACE(body);
    const Outcome out = parse("b", body);
    EXPECT_FALSE(out.ok);
    EXPECT_TRUE(out.failed);
    EXPECT_FALSE(out.complete);
  }
}

TEST(Multipart, HeaderBlockOverTheLimitFails) {
  const std::string long_header = "X-Filler: " + std::string(4 * MultipartParser::kMaxHeaderBytes, 'a') + "\r\n";
  const std::string body = "--b\r\n" + long_header + "Content-Disposition: form-data; name=\"x\"\r\n\r\nx\r\n--b--";
  const Outcome whole = parse("b", body);
  EXPECT_TRUE(whole.failed);
  // Fed in small pieces, it fails once the block is too long, without waiting for its end.
  MultipartParser parser("b");
  Recorder recorder;
  bool ok = true;
  std::size_t fed = 0;
  for (; ok && fed < body.size(); fed += 1000) ok = parser.feed(std::string_view(body).substr(fed, 1000), recorder);
  EXPECT_FALSE(ok);
  EXPECT_LT(fed, body.size());
  EXPECT_TRUE(parser.failed());
}

TEST(Multipart, HandlerStops) {
  MultipartParser parser("XyZ");
  Recorder recorder;
  recorder.stop_at = "file";
  EXPECT_FALSE(parser.feed(kBody, recorder));
  EXPECT_TRUE(parser.stopped());
  EXPECT_FALSE(parser.failed());
  ASSERT_EQ(recorder.parts.size(), 1u);
  EXPECT_EQ(recorder.parts[0].content, "hello");
  EXPECT_FALSE(parser.feed("more", recorder));
}

TEST(Multipart, BoundaryOfContentType) {
  EXPECT_EQ(MultipartParser::boundary_of("multipart/form-data; boundary=abc"), "abc");
  EXPECT_EQ(MultipartParser::boundary_of("Multipart/Form-Data;boundary=\"a b:c\""), "a b:c");
  EXPECT_EQ(MultipartParser::boundary_of("multipart/form-data; charset=utf-8; boundary=x1; other=2"), "x1");
  EXPECT_EQ(MultipartParser::boundary_of("multipart/form-data; boundary=" + std::string(70, 'z')), std::string(70, 'z'));
  EXPECT_FALSE(MultipartParser::boundary_of("multipart/form-data; boundary=" + std::string(71, 'z')));
  EXPECT_FALSE(MultipartParser::boundary_of("multipart/form-data"));
  EXPECT_FALSE(MultipartParser::boundary_of("multipart/form-data; boundary="));
  EXPECT_FALSE(MultipartParser::boundary_of("multipart/form-data; boundary=\"unclosed"));
  EXPECT_FALSE(MultipartParser::boundary_of("multipart/mixed; boundary=abc"));
  EXPECT_FALSE(MultipartParser::boundary_of("text/csv"));
  EXPECT_TRUE(MultipartParser::is_form_data("multipart/form-data"));
  EXPECT_TRUE(MultipartParser::is_form_data(" MULTIPART/FORM-DATA ; boundary=x"));
  EXPECT_FALSE(MultipartParser::is_form_data("multipart/mixed; boundary=x"));
}

}  // namespace
}  // namespace logclf::server
