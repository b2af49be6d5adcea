// ASCII character tests shared by the parsers, the encoders and the cache: byte comparisons without a
// locale lookup (the <cctype> functions consult the locale on every call, and HTTP names and log tokens are
// defined on ASCII bytes whatever the locale).
#pragma once

#include <algorithm>
#include <string_view>

namespace logclf::util {

inline char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c; }

// Equal but for the case of ASCII letters (header names, URL schemes, media types).
inline bool equal_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return ascii_lower(x) == ascii_lower(y); });
}

// Without leading and trailing spaces and tabs (HTTP's optional whitespace).
inline std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A byte of a word: an ASCII letter, digit or underscore, or any byte of a multi-byte UTF-8 character (so
// that words in other scripts stay words). The lexical encoder's words and the cache's template tokens are
// both made of these bytes.
inline bool is_word_byte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c >= 0x80;
}

}  // namespace logclf::util
