#include "io/reader_util.h"

#include <cstring>

#include "io/utf8.h"
#include "logclf/types.h"

namespace logclf::io {

void throw_at(const std::string& name, uint64_t line, std::string_view problem) {
  std::string message = name;
  message += ':';
  message += std::to_string(line);
  message += ": ";
  message += problem;
  throw Error(message);
}

void ensure_utf8(std::string& text, bool strict, const std::string& name, uint64_t line,
                 std::string_view what) {
  const std::size_t bad = find_invalid_utf8(text);
  if (bad == kValidUtf8) return;
  if (strict) {
    throw_at(name, line, "invalid UTF-8 at byte " + std::to_string(bad + 1) + " of " + std::string(what));
  }
  replace_invalid_utf8(text, bad);
}

bool LineSplitter::next(std::string_view& line) {
  source_.consume(pending_);
  pending_ = 0;
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
    // (its last byte may be the CR of a CRLF).
    if (size > 0 && size - 1 > max_) throw_at(name_, line_ + 1, "record longer than " + std::to_string(max_) + " bytes");
    scanned_ = size;
    if (eof_ || !source_.fill(name_)) {
      eof_ = true;
      if (size == 0) return false;
      length = pending_ = size;
      break;
    }
  }
  scanned_ = 0;
  ++line_;
  const char* data = source_.data();
  if (length > 0 && data[length - 1] == '\r') --length;
  if (length > max_) throw_at(name_, line_, "record longer than " + std::to_string(max_) + " bytes");
  if (line_ == 1 && starts_with_bom(data, length)) {
    data += 3;
    length -= 3;
  }
  line = std::string_view(data, length);
  return true;
}

}  // namespace logclf::io
