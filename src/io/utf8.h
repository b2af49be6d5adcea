// UTF-8 validation and repair. A sequence is valid per RFC 3629: no overlong forms, no surrogates
// (U+D800..U+DFFF), nothing above U+10FFFF.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace logclf::io {

inline constexpr std::size_t kValidUtf8 = std::string_view::npos;

// Offset of the first byte of the first invalid sequence in `text`, or kValidUtf8.
std::size_t find_invalid_utf8(std::string_view text) noexcept;

// Replaces every maximal invalid subpart by U+FFFD (the WHATWG / Unicode "best practice" rule that
// Python's errors="replace" follows), e.g. "\xE2\x82" -> one U+FFFD, "\xC0\xAF" -> two.
// `from` is an offset at or before the first invalid byte (as returned by find_invalid_utf8).
void replace_invalid_utf8(std::string& text, std::size_t from = 0);

}  // namespace logclf::io
