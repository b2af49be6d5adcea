// Fuzzes the transport's own parsing of request bytes (server/http_util.h): the request-head checker and
// the compressed-body decoder. Besides crashes it checks that (1) the head checker gives the same verdict
// whatever pieces the bytes arrive in, and (2) the decoder gives the same output and verdict whatever the
// pieces, never passes on a piece over 256 KiB, and decodes exactly what zlib's one-shot decoder does
// when the body is a valid stream.
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "server/http_util.h"

namespace {

using logclf::server::http::BodyInflater;
using logclf::server::http::RequestHeadChecker;

struct Decoded {
  std::string text, problem;
  bool finished = false;
};

Decoded decode(std::string_view body, bool gzip, std::size_t step) {
  Decoded d;
  BodyInflater inflater(gzip);
  for (std::size_t at = 0; at < body.size() && d.problem.empty(); at += step) {
    d.problem = inflater.feed(body.substr(at, step), [&](std::string_view piece) {
      if (piece.size() > (std::size_t{256} << 10)) __builtin_trap();
      d.text.append(piece);
      return d.text.size() < (std::size_t{8} << 20);  // the caller's own limit
    });
    if (d.text.size() >= (std::size_t{8} << 20)) break;
  }
  d.finished = inflater.finished();
  return d;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t step = 1 + data[0] % 61;
  const bool gzip = data[1] & 1;
  const std::string_view input(reinterpret_cast<const char*>(data) + 2, size - 2);

  RequestHeadChecker whole, pieces;
  const bool ok_whole = whole.feed(input);
  bool ok_pieces = true;
  for (std::size_t at = 0; at < input.size(); at += step) ok_pieces = pieces.feed(input.substr(at, step)) && ok_pieces;
  if (ok_whole != ok_pieces) __builtin_trap();

  const Decoded all = decode(input, gzip, input.size() + 1);
  const Decoded split = decode(input, gzip, step);
  if (all.text.size() < (std::size_t{8} << 20) && split.text.size() < (std::size_t{8} << 20) &&
      (all.problem.empty() != split.problem.empty() || (all.problem.empty() && (all.text != split.text || all.finished != split.finished))))
    __builtin_trap();
  if (all.problem.empty() && all.finished && gzip) {
    // zlib's own decoder must agree on a single complete member.
    z_stream z{};
    inflateInit2(&z, 15 + 16);
    std::string out(all.text.size() + 1, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
    z.avail_in = static_cast<uInt>(input.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    const int rc = inflate(&z, Z_FINISH);
    out.resize(z.total_out);
    const bool one_member = rc == Z_STREAM_END && z.avail_in == 0;
    inflateEnd(&z);
    if (one_member && out != all.text) __builtin_trap();
  }
  return 0;
}
