#include "io/utf8.h"

#include <cstdint>
#include <cstring>

namespace logclf::io {

namespace {

// Length of the valid sequence at p[0..n), or 0 when the bytes there start an invalid one. When 0,
// *bad_len is the length of the maximal invalid subpart to replace (at least 1).
std::size_t valid_sequence(const unsigned char* p, std::size_t n, std::size_t* bad_len) {
  const unsigned char c = p[0];
  std::size_t need;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) {
    need = 1;
  } else if (c >= 0xE0 && c <= 0xEF) {
    need = 2;
    if (c == 0xE0) lo = 0xA0;          // overlong
    if (c == 0xED) hi = 0x9F;          // surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    need = 3;
    if (c == 0xF0) lo = 0x90;          // overlong
    if (c == 0xF4) hi = 0x8F;          // above U+10FFFF
  } else {
    *bad_len = 1;                      // 80..C1 and F5..FF never start a sequence
    return 0;
  }
  std::size_t i = 1;
  for (; i <= need; ++i) {
    if (i >= n) break;
    const unsigned char b = p[i];
    if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) break;
  }
  if (i > need) return need + 1;
  *bad_len = i;  // the lead byte and the continuation bytes that were acceptable so far
  return 0;
}

// Index of the first byte >= 0x80 at or after `i`; checks 32 bytes at a time, the common ASCII case.
std::size_t skip_ascii(const unsigned char* p, std::size_t n, std::size_t i) {
  auto word = [p](std::size_t at) {
    uint64_t w;
    std::memcpy(&w, p + at, 8);
    return w;
  };
  constexpr uint64_t kHighs = 0x8080808080808080ULL;
  for (; i + 32 <= n; i += 32) {
    if ((word(i) | word(i + 8) | word(i + 16) | word(i + 24)) & kHighs) break;
  }
  for (; i + 8 <= n; i += 8) {
    if (word(i) & kHighs) break;
  }
  while (i < n && p[i] < 0x80) ++i;
  return i;
}

}  // namespace

std::size_t find_invalid_utf8(std::string_view text) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t i = skip_ascii(p, n, 0);
  while (i < n) {
    std::size_t bad;
    std::size_t len = valid_sequence(p + i, n - i, &bad);
    if (len == 0) return i;
    i = skip_ascii(p, n, i + len);
  }
  return kValidUtf8;
}

void replace_invalid_utf8(std::string& text, std::size_t from) {
  std::string out;
  out.reserve(text.size() + 8);
  out.append(text, 0, from);
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t i = from;
  while (i < n) {
    std::size_t bad = 0;
    std::size_t len = valid_sequence(p + i, n - i, &bad);
    if (len > 0) {
      out.append(text, i, len);
      i += len;
    } else {
      out.append("\xEF\xBF\xBD");
      i += bad;
    }
  }
  text.swap(out);
}

}  // namespace logclf::io
