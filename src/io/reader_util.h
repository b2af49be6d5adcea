// Helpers shared by the record readers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "io/input_source.h"

namespace logclf::io {

// "NAME:LINE: problem", the form of every reader error, made valid UTF-8.
std::string located(const std::string& name, uint64_t line, std::string_view problem);
[[noreturn]] void throw_at(const std::string& name, uint64_t line, std::string_view problem);

// Makes `text` valid UTF-8 in place (invalid sequences become U+FFFD). Returns the problem when `strict`
// and `text` was invalid: "invalid UTF-8 at byte N of WHAT", N counted from 1 within `text`; else "".
std::string repair_utf8(std::string& text, bool strict, std::string_view what);

// Makes `text` valid UTF-8 in place. In strict mode an invalid sequence is an error instead:
// "NAME:LINE: invalid UTF-8 at byte N of WHAT".
void ensure_utf8(std::string& text, bool strict, const std::string& name, uint64_t line,
                 std::string_view what);

// "'a'", "'a' or 'b'", "'a', 'b' or 'c'": the names tried, for error messages.
std::string alternatives(const std::vector<std::string>& names);

// True when [p, p+n) starts with the UTF-8 byte order mark.
inline bool starts_with_bom(const char* p, std::size_t n) {
  return n >= 3 && std::string_view(p, 3) == "\xEF\xBB\xBF";
}

// Splits an input into lines ending in LF or CRLF (the last line may lack its terminator). Never
// holds more than one line plus one read block in memory.
class LineSplitter {
 public:
  // `keep_long_lines`: a line longer than max_line_bytes is skipped and returned as too_long() instead
  // of being an Error.
  LineSplitter(InputSource source, std::string name, std::size_t max_line_bytes, bool keep_long_lines)
      : source_(std::move(source)), name_(std::move(name)), max_(max_line_bytes), keep_long_(keep_long_lines) {}

  // The next line without its terminator and, on line 1, without a UTF-8 BOM; the view stays valid
  // until the next call. False at end of input. A line longer than max_line_bytes is an Error, or
  // with keep_long_lines an empty view with too_long() true (its bytes are dropped as they arrive).
  bool next(std::string_view& line);
  bool too_long() const { return too_long_; }    // the line last returned was longer than max_line_bytes
  std::string too_long_problem() const { return "record longer than " + std::to_string(max_) + " bytes"; }
  uint64_t line_number() const { return line_; }  // of the line last returned, 1-based
  const std::string& name() const { return name_; }
  const InputSource& source() const { return source_; }
  InputSource& source() { return source_; }
  // Every byte read so far has been returned (the last line's bytes are consumed on the next call).
  bool caught_up() const { return source_.live() && source_.size() == pending_; }

 private:
  InputSource source_;
  std::string name_;
  std::size_t max_;
  bool keep_long_;
  bool too_long_ = false;
  std::size_t scanned_ = 0;   // bytes of the window already searched for '\n'
  std::size_t pending_ = 0;   // bytes of the previous line (with terminator) still to consume
  uint64_t line_ = 0;
  bool eof_ = false;
};

}  // namespace logclf::io
