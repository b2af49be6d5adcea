#include "server/multipart.h"

#include "util/ascii.h"

#include <algorithm>

namespace logclf::server {

namespace {

// Spaces and tabs allowed after a delimiter before its line ends (RFC 2046's transport padding).
constexpr std::size_t kMaxPadding = 64;

using util::equal_ignoring_case;
using util::trim;

// Calls f(name, value) for each `; name=value` parameter after the first item of a header value (a media
// type or a disposition type), values unquoted. Returns the first item, or nullopt when a quoted value is
// not closed.
template <typename F>
std::optional<std::string_view> parameters(std::string_view text, F&& f) {
  std::size_t semicolon = text.find(';');
  const std::string_view first = trim(text.substr(0, semicolon));
  while (semicolon != text.npos) {
    std::size_t at = semicolon + 1;
    const std::size_t equals = text.find('=', at);
    if (equals == text.npos) break;  // a parameter without a value: nothing more to read
    const std::string_view name = trim(text.substr(at, equals - at));
    at = equals + 1;
    while (at < text.size() && (text[at] == ' ' || text[at] == '\t')) ++at;
    std::string value;
    if (at < text.size() && text[at] == '"') {
      bool closed = false;
      for (++at; at < text.size(); ++at) {
        if (text[at] == '\\' && at + 1 < text.size()) {
          value += text[++at];
        } else if (text[at] == '"') {
          closed = true;
          ++at;
          break;
        } else {
          value += text[at];
        }
      }
      if (!closed) return std::nullopt;
      semicolon = text.find(';', at);
    } else {
      semicolon = text.find(';', at);
      value = trim(text.substr(at, semicolon == text.npos ? text.npos : semicolon - at));
    }
    f(name, std::move(value));
  }
  return first;
}

// The part's headers from its header block (lines separated by CRLF, without the blank line). A part must
// have a Content-Disposition of type form-data with a name (RFC 7578, section 4.2).
std::optional<PartHeaders> parse_headers(std::string_view block) {
  PartHeaders out;
  bool disposition = false;
  for (std::size_t start = 0; start < block.size();) {
    std::size_t end = block.find("\r\n", start);
    if (end == block.npos) end = block.size();
    const std::string_view line = block.substr(start, end - start);
    start = end + 2;
    const std::size_t colon = line.find(':');
    if (colon == line.npos) return std::nullopt;
    const std::string_view name = trim(line.substr(0, colon));
    const std::string_view value = trim(line.substr(colon + 1));
    if (equal_ignoring_case(name, "Content-Type")) {
      out.content_type = value;
    } else if (equal_ignoring_case(name, "Content-Disposition")) {
      bool named = false;
      const auto type = parameters(value, [&](std::string_view key, std::string v) {
        if (equal_ignoring_case(key, "name")) {
          out.name = std::move(v);
          named = true;
        } else if (equal_ignoring_case(key, "filename")) {
          out.filename = std::move(v);
        }
      });
      if (!type || !equal_ignoring_case(*type, "form-data") || !named) return std::nullopt;
      disposition = true;
    }
  }
  if (!disposition) return std::nullopt;
  return out;
}

}  // namespace

bool MultipartParser::is_form_data(std::string_view content_type) {
  return equal_ignoring_case(trim(content_type.substr(0, content_type.find(';'))), "multipart/form-data");
}

std::optional<std::string> MultipartParser::boundary_of(std::string_view content_type) {
  std::optional<std::string> boundary;
  const auto type = parameters(content_type, [&](std::string_view key, std::string value) {
    if (equal_ignoring_case(key, "boundary") && !boundary) boundary = std::move(value);
  });
  if (!type || !equal_ignoring_case(*type, "multipart/form-data") || !boundary) return std::nullopt;
  if (boundary->empty() || boundary->size() > 70) return std::nullopt;
  return boundary;
}

// The body is parsed as if it began with CRLF, so that a first delimiter at its very start is found like
// every other one.
MultipartParser::MultipartParser(std::string_view boundary) : delimiter_("\r\n--"), buffer_("\r\n") {
  delimiter_ += boundary;
}

bool MultipartParser::feed(std::string_view piece, Handler& handler) {
  if (state_ == State::failed) return false;
  if (state_ == State::epilogue) return true;
  buffer_.append(piece);
  std::size_t pos = 0;
  const bool ok = run(handler, pos);
  if (!ok) {
    state_ = State::failed;
    buffer_.clear();
    return false;
  }
  buffer_.erase(0, pos);
  return true;
}

bool MultipartParser::run(Handler& handler, std::size_t& pos) {
  for (;;) {
    switch (state_) {
      case State::preamble: {
        const std::size_t at = buffer_.find(delimiter_, pos);
        if (at == buffer_.npos) {
          // Keep what could be the start of a delimiter.
          if (buffer_.size() - pos >= delimiter_.size()) pos = buffer_.size() - (delimiter_.size() - 1);
          return true;
        }
        pos = at + delimiter_.size();
        state_ = State::after_delimiter;
        break;
      }
      case State::after_delimiter: {
        if (buffer_.size() - pos < 2) return true;
        if (buffer_.compare(pos, 2, "--") == 0) {
          pos = buffer_.size();
          state_ = State::epilogue;
          return true;
        }
        std::size_t at = pos;
        while (at < buffer_.size() && (buffer_[at] == ' ' || buffer_[at] == '\t')) ++at;
        if (at - pos > kMaxPadding) return false;
        if (buffer_.size() - at < 2) return true;
        if (buffer_.compare(at, 2, "\r\n") != 0) return false;
        pos = at + 2;
        state_ = State::headers;
        break;
      }
      case State::headers: {
        // The header block ends with an empty line; a block without headers is refused by parse_headers.
        std::size_t end;
        if (buffer_.compare(pos, 2, "\r\n") == 0) {
          end = pos;
        } else {
          const std::size_t at = buffer_.find("\r\n\r\n", pos);
          if (at == buffer_.npos) return buffer_.size() - pos <= kMaxHeaderBytes;
          end = at + 2;
        }
        if (end - pos > kMaxHeaderBytes) return false;
        const auto headers = parse_headers(std::string_view(buffer_).substr(pos, end - pos == 0 ? 0 : end - pos - 2));
        if (!headers) return false;
        pos = end + 2;
        state_ = State::body;
        if (!handler.part(*headers)) {
          stopped_ = true;
          return false;
        }
        break;
      }
      case State::body: {
        const std::size_t at = buffer_.find(delimiter_, pos);
        const std::size_t end = at != buffer_.npos ? at
                                : buffer_.size() - pos >= delimiter_.size() ? buffer_.size() - (delimiter_.size() - 1)
                                                                             : pos;
        if (end > pos && !handler.data(std::string_view(buffer_).substr(pos, end - pos))) {
          stopped_ = true;
          return false;
        }
        pos = end;
        if (at == buffer_.npos) return true;
        pos += delimiter_.size();
        state_ = State::after_delimiter;
        break;
      }
      case State::epilogue:
        pos = buffer_.size();
        return true;
      case State::failed:
        return false;
    }
  }
}

}  // namespace logclf::server
