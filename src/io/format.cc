#include <cctype>

#include "logclf/io.h"

#include "io/csv_field.h"

namespace logclf {

std::optional<Format> parse_format(std::string_view name) {
  if (name == "csv") return Format::csv;
  if (name == "jsonl" || name == "ndjson") return Format::jsonl;
  if (name == "json") return Format::json;
  if (name == "lines" || name == "text" || name == "txt") return Format::lines;
  return std::nullopt;
}

std::string_view to_string(Format format) {
  switch (format) {
    case Format::csv: return "csv";
    case Format::jsonl: return "jsonl";
    case Format::json: return "json";
    case Format::lines: return "lines";
  }
  return "csv";
}

namespace {

// The extension of the path's last part, lowercased; empty when it has none (a dot file such as ".csv"
// has none).
std::string extension_of(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  const std::string_view base = slash == path.npos ? path : path.substr(slash + 1);
  const std::size_t dot = base.rfind('.');
  std::string extension;
  if (dot == base.npos || dot == 0) return extension;
  for (char c : base.substr(dot + 1)) extension += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return extension;
}

std::optional<Format> format_of_extension(const std::string& extension) {
  if (extension == "csv") return Format::csv;
  if (extension == "jsonl" || extension == "ndjson") return Format::jsonl;
  if (extension == "json") return Format::json;
  if (extension == "log" || extension == "txt") return Format::lines;
  return std::nullopt;
}

}  // namespace

Format format_from_path(std::string_view path, Format fallback) {
  return format_of_extension(extension_of(path)).value_or(fallback);
}

Format output_format_from_path(std::string_view path, Format fallback) {
  const std::string extension = extension_of(path);
  if (extension.empty()) return fallback;
  if (const auto format = format_of_extension(extension)) return *format;
  throw Error("cannot tell the output format of '" + std::string(path) +
              "' from its extension: use .csv, .jsonl, .json, .txt or .log, or --output-format");
}

std::vector<std::string> default_message_fields(Format format) {
  if (format == Format::jsonl || format == Format::json) return {"log_message", "message", "log", "msg"};
  return {"log_message"};
}

void append_csv_field(std::string& out, std::string_view field) { io::append_csv(out, field); }

}  // namespace logclf
