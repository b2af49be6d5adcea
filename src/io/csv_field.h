// CSV field quoting shared by every CSV the project writes.
#pragma once

#include <string>
#include <string_view>

namespace logclf::io {

// Appends `field` to `out` with RFC 4180 quoting where needed: a field holding a comma, quote, CR or LF,
// or starting or ending with a blank (many readers trim unquoted fields), is quoted with quotes doubled.
// `always_quote` quotes it regardless.
void append_csv(std::string& out, std::string_view field, bool always_quote = false);

}  // namespace logclf::io
