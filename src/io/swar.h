// Byte-class tests on 8 bytes at a time ("SIMD within a register"), for scanning loops that look for
// several delimiters at once where memchr can look for only one.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

namespace logclf::io::swar {

inline constexpr uint64_t kOnes = 0x0101010101010101ULL;
inline constexpr uint64_t kHighs = 0x8080808080808080ULL;

inline uint64_t load(const char* p) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}

// High bit set in each byte of `w` equal to `c`. Only the lowest set bit is exact (a borrow can mark a
// byte above a match), which is all that first_byte() needs.
inline uint64_t equal(uint64_t w, unsigned char c) {
  const uint64_t x = w ^ (kOnes * c);
  return (x - kOnes) & ~x & kHighs;
}

// High bit set in each byte of `w` below `n` (n <= 0x80); the lowest set bit is exact.
inline uint64_t below(uint64_t w, unsigned char n) { return (w - kOnes * n) & ~w & kHighs; }

// Index of the byte marked by the lowest set bit of a non-zero mask (little-endian).
inline unsigned first_byte(uint64_t mask) { return static_cast<unsigned>(std::countr_zero(mask)) >> 3; }

static_assert(std::endian::native == std::endian::little, "first_byte() assumes little-endian loads");

// The first byte in [p, end) for which mask(word) marks a byte and is_special(byte) holds, or end.
template <class Mask, class IsSpecial>
const char* find_first(const char* p, const char* end, Mask mask, IsSpecial is_special) {
  for (; end - p >= 8; p += 8) {
    if (const uint64_t m = mask(load(p))) return p + first_byte(m);
  }
  while (p < end && !is_special(*p)) ++p;
  return p;
}

// The first '"', '\\' or control character (below 0x20): what a JSON string must escape.
inline const char* find_json_special(const char* p, const char* end) {
  return find_first(
      p, end, [](uint64_t w) { return equal(w, '"') | equal(w, '\\') | below(w, 0x20); },
      [](char c) { return c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20; });
}

}  // namespace logclf::io::swar
