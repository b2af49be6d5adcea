// Fuzzes the streaming multipart/form-data parser. The input's first byte sets the size of the pieces
// the body is fed in, its first line (after that byte) is the boundary, the rest the body. Besides crashes
// it checks that the parts, their content and the outcome do not depend on how the body is cut, and that
// no content holds a delimiter.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "server/multipart.h"

namespace {

using logclf::server::MultipartParser;
using logclf::server::PartHeaders;

struct Recorder : MultipartParser::Handler {
  std::string log;  // every part's headers and content, in order
  std::vector<std::string> contents;
  bool part(const PartHeaders& h) override {
    log += "\n[part name=" + h.name + " filename=" + h.filename + " type=" + h.content_type + "]\n";
    contents.emplace_back();
    return true;
  }
  bool data(std::string_view piece) override {
    if (piece.empty()) std::abort();
    log += piece;
    contents.back() += piece;
    return true;
  }
};

struct Outcome {
  std::string log;
  std::vector<std::string> contents;
  bool complete, failed;
};

Outcome parse(std::string_view boundary, std::string_view body, std::size_t piece) {
  MultipartParser parser(boundary);
  Recorder recorder;
  for (std::size_t at = 0; at < body.size(); at += piece) {
    if (!parser.feed(body.substr(at, piece), recorder)) break;
  }
  return {recorder.log, recorder.contents, parser.complete(), parser.failed()};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t piece = 1 + data[0] % 17;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::size_t newline = input.find('\n');
  if (newline == input.npos || newline == 0 || newline > 70) return 0;
  const std::string_view boundary = input.substr(0, newline);
  const std::string_view body = input.substr(newline + 1);
  const Outcome whole = parse(boundary, body, body.size() + 1);
  const Outcome pieces = parse(boundary, body, piece);
  if (whole.log != pieces.log || whole.complete != pieces.complete || whole.failed != pieces.failed) {
    std::fprintf(stderr, "the outcome depends on the cuts (pieces of %zu bytes)\n", piece);
    std::abort();
  }
  if (whole.complete && whole.failed) std::abort();
  const std::string delimiter = "\r\n--" + std::string(boundary);
  for (const std::string& content : whole.contents) {
    if (content.find(delimiter) != std::string::npos) {
      std::fprintf(stderr, "a part's content holds the delimiter\n");
      std::abort();
    }
  }
  return 0;
}
