#include "io/reader_util.h"

#include <cstring>

#include "io/utf8.h"
#include "logclf/types.h"

namespace logclf::io {

std::string located(const std::string& name, uint64_t line, std::string_view problem) {
  std::string message = name;
  message += ':';
  message += std::to_string(line);
  message += ": ";
  message += problem;
  // The problem may quote the input (a parser's "last read" cut inside a character): an error written to
  // an output must be valid UTF-8.
  if (const std::size_t bad = find_invalid_utf8(message); bad != kValidUtf8) replace_invalid_utf8(message, bad);
  return message;
}

void throw_at(const std::string& name, uint64_t line, std::string_view problem) {
  throw Error(located(name, line, problem));
}

std::string repair_utf8(std::string& text, bool strict, std::string_view what) {
  const std::size_t bad = find_invalid_utf8(text);
  if (bad == kValidUtf8) return {};
  replace_invalid_utf8(text, bad);
  if (!strict) return {};
  return "invalid UTF-8 at byte " + std::to_string(bad + 1) + " of " + std::string(what);
}

void ensure_utf8(std::string& text, bool strict, const std::string& name, uint64_t line,
                 std::string_view what) {
  if (const std::string problem = repair_utf8(text, strict, what); !problem.empty()) throw_at(name, line, problem);
}

std::string alternatives(const std::vector<std::string>& names) {
  std::string text;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) text += i + 1 == names.size() ? " or " : ", ";
    text += '\'' + names[i] + '\'';
  }
  return text;
}

bool LineSplitter::next(std::string_view& line) {
  source_.consume(pending_);
  pending_ = 0;
  too_long_ = false;
  std::size_t length;
  for (;;) {
    const char* data = source_.data();
    const std::size_t size = source_.size();
    if (const void* nl = std::memchr(data + scanned_, '\n', size - scanned_)) {
      length = static_cast<std::size_t>(static_cast<const char*>(nl) - data);
      pending_ = length + 1;
      break;
    }
    // The whole window is one unfinished line: fail fast on an endless line instead of buffering it
    // (its last byte may be the CR of a CRLF), or drop what is read of it until its end arrives.
    if (size > 0 && size - 1 > max_) {
      if (!keep_long_) throw_at(name_, line_ + 1, too_long_problem());
      too_long_ = true;
      source_.consume(size - 1);  // the last byte may be the CR of a CRLF
    }
    scanned_ = source_.size();
    if (eof_ || !source_.fill(name_)) {
      eof_ = true;
      if (source_.size() == 0 && !too_long_) return false;
      length = pending_ = source_.size();
      break;
    }
  }
  scanned_ = 0;
  ++line_;
  const char* data = source_.data();
  if (length > 0 && data[length - 1] == '\r') --length;
  if (length > max_ || too_long_) {
    if (!keep_long_) throw_at(name_, line_, too_long_problem());
    too_long_ = true;
    line = {};
    return true;
  }
  if (line_ == 1 && starts_with_bom(data, length)) {
    data += 3;
    length -= 3;
  }
  line = std::string_view(data, length);
  return true;
}

}  // namespace logclf::io
