#include "io/lines_reader.h"

#include <utility>
#include <vector>

#include "io/reader_util.h"

namespace logclf::io {

namespace {

class LinesReader final : public RecordReader {
 public:
  LinesReader(InputSource source, std::string name, const ReadOptions& options)
      : lines_(std::move(source), std::move(name), options.max_record_bytes, options.keep_bad_records),
        strict_(options.strict_utf8),
        keep_bad_(options.keep_bad_records),
        columns_{options.message_fields.front()} {
    if (options.require_label) {
      throw Error(lines_.name() + ": plain lines have no '" + options.label_field + "' field");
    }
  }

  bool next(Record& out) override {
    std::string_view line;
    if (!lines_.next(line)) return false;
    out.line = lines_.line_number();
    out.message.assign(line);
    out.source.clear();
    out.label.clear();
    out.fields.clear();
    out.raw.clear();
    out.error.clear();
    std::string problem = lines_.too_long() ? lines_.too_long_problem() : repair_utf8(out.message, strict_, "the line");
    if (!problem.empty()) {
      if (!keep_bad_) throw_at(lines_.name(), out.line, problem);
      out.error = located(lines_.name(), out.line, problem);
      out.raw.swap(out.message);
    }
    return true;
  }

  const std::vector<std::string>& columns() const override { return columns_; }
  Format format() const override { return Format::lines; }
  const std::string& name() const override { return lines_.name(); }
  std::uint64_t bytes_read() const override { return lines_.source().position(); }
  std::uint64_t total_bytes() const override { return lines_.source().total_size(); }
  bool caught_up() const override { return lines_.caught_up(); }
  void stop_when(const std::atomic<bool>* flag) override { lines_.source().stop_when(flag); }

 private:
  LineSplitter lines_;
  bool strict_;
  bool keep_bad_;
  std::vector<std::string> columns_;
};

}  // namespace

std::unique_ptr<RecordReader> make_lines_reader(InputSource source, std::string name,
                                                const ReadOptions& options) {
  return std::make_unique<LinesReader>(std::move(source), std::move(name), options);
}

}  // namespace logclf::io
