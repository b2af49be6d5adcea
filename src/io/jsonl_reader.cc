#include "io/jsonl_reader.h"

#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "io/json_record.h"
#include "io/reader_util.h"

namespace logclf::io {

namespace {

// Trimmed around a line's object; JSON allows them there, and trimming keeps the writer's insertion
// point at the very end.
bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

class JsonlReader final : public RecordReader {
 public:
  JsonlReader(InputSource source, std::string name, const ReadOptions& options, bool fast_path)
      : lines_(std::move(source), std::move(name), options.max_record_bytes, options.keep_bad_records),
        options_(options),
        parser_(options, fast_path),
        columns_{options.message_fields.front()} {}

  bool next(Record& out) override {
    std::string_view line;
    do {
      if (!lines_.next(line)) return false;
      while (!line.empty() && is_blank(line.front())) line.remove_prefix(1);
      while (!line.empty() && is_blank(line.back())) line.remove_suffix(1);
    } while (line.empty() && !lines_.too_long());
    const uint64_t at = lines_.line_number();
    if (std::exchange(first_, false) && line.starts_with('[')) {
      // A file (or stream: a log shipper's batch piped in) holding one array rather than JSON lines: no record
      // of it could be read.
      const std::string& name = lines_.name();
      throw_at(name, at, "this is a JSON array; logclf reads JSON lines (one object per line), e.g. jq -c '.[]'" +
                             (name == "<stdin>" ? std::string() : " " + name));
    }
    out.line = at;
    out.raw.clear();
    out.error.clear();
    out.fields.resize(1);
    std::string& text = out.fields[0];
    text.assign(line);
    bool object = false;
    // UTF-8 before parsing: the parser rejects invalid UTF-8, and the text is passed through to the output.
    std::string problem = lines_.too_long() ? lines_.too_long_problem() : repair_utf8(text, options_.strict_utf8, "the line");
    if (problem.empty()) problem = parser_.parse(text, out, object);
    if (problem.empty()) return true;
    if (!options_.keep_bad_records) throw_at(lines_.name(), at, problem);
    out.error = located(lines_.name(), at, problem);
    out.message.clear();
    out.source.clear();
    out.label.clear();
    out.raw = text;
    if (!object) out.fields.clear();
    return true;
  }

  const std::vector<std::string>& columns() const override { return columns_; }
  Format format() const override { return Format::jsonl; }
  const std::string& name() const override { return lines_.name(); }
  std::uint64_t bytes_read() const override { return lines_.source().position(); }
  std::uint64_t total_bytes() const override { return lines_.source().total_size(); }
  bool caught_up() const override { return lines_.caught_up(); }
  void stop_when(const std::atomic<bool>* flag) override { lines_.source().stop_when(flag); }

 private:
  LineSplitter lines_;
  ReadOptions options_;
  JsonRecordParser parser_;
  std::vector<std::string> columns_;
  bool first_ = true;  // no line read yet
};

}  // namespace

std::unique_ptr<RecordReader> make_jsonl_reader(InputSource source, std::string name,
                                                const ReadOptions& options, bool fast_path) {
  return std::make_unique<JsonlReader>(std::move(source), std::move(name), options, fast_path);
}

}  // namespace logclf::io
