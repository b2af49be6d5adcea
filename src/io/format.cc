#include <cctype>

#include "logclf/io.h"

namespace logclf {

std::optional<Format> parse_format(std::string_view name) {
  if (name == "csv") return Format::csv;
  if (name == "jsonl" || name == "ndjson" || name == "json") return Format::jsonl;
  if (name == "lines" || name == "text" || name == "txt") return Format::lines;
  return std::nullopt;
}

std::string_view to_string(Format format) {
  switch (format) {
    case Format::csv: return "csv";
    case Format::jsonl: return "jsonl";
    case Format::lines: return "lines";
  }
  return "csv";
}

Format format_from_path(std::string_view path, Format fallback) {
  const std::size_t slash = path.rfind('/');
  const std::string_view base = slash == path.npos ? path : path.substr(slash + 1);
  const std::size_t dot = base.rfind('.');
  if (dot == base.npos || dot == 0) return fallback;  // no extension, or a dot file such as ".csv"
  std::string extension;
  for (char c : base.substr(dot + 1)) extension += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (extension == "csv") return Format::csv;
  if (extension == "jsonl" || extension == "ndjson" || extension == "json") return Format::jsonl;
  if (extension == "log" || extension == "txt") return Format::lines;
  return fallback;
}

std::vector<std::string> default_message_fields(Format format) {
  if (format == Format::jsonl) return {"log_message", "message", "log", "msg"};
  return {"log_message"};
}

}  // namespace logclf
