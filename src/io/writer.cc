#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <optional>
#include <string_view>
#include <vector>

#include "io/atomic_file.h"
#include "io/csv_field.h"
#include "io/json_text.h"
#include "io/swar.h"
#include "logclf/io.h"

namespace logclf {

namespace io {
namespace {

// Whether `field` holds a comma, quote, CR or LF. (string_view::find_first_of would call memchr once
// per byte of the field.)
bool has_csv_special(std::string_view field) {
  const char* end = field.data() + field.size();
  return io::swar::find_first(
             field.data(), end,
             [](uint64_t w) {
               return io::swar::equal(w, ',') | io::swar::equal(w, '"') | io::swar::equal(w, '\r') |
                      io::swar::equal(w, '\n');
             },
             [](char c) { return c == ',' || c == '"' || c == '\r' || c == '\n'; }) != end;
}

bool is_blank(char c) { return c == ' ' || c == '\t'; }

}  // namespace

// RFC 4180 quoting, only where needed. Leading or trailing blanks are quoted too, as many readers
// trim unquoted fields.
void append_csv(std::string& out, std::string_view field, bool always_quote) {
  const bool quote = always_quote || has_csv_special(field) || (!field.empty() && (is_blank(field.front()) || is_blank(field.back())));
  if (!quote) {
    out += field;
    return;
  }
  out += '"';
  for (std::size_t start = 0;;) {
    const std::size_t q = field.find('"', start);
    if (q == field.npos) {
      out.append(field, start);
      break;
    }
    out.append(field, start, q + 1 - start);
    out += '"';
    start = q + 1;
  }
  out += '"';
}

}  // namespace io

namespace {

using io::append_confidence;
using io::append_csv;
using io::append_json;

// Output is sent to its destination in blocks of about this size.
constexpr std::size_t kFlushBytes = std::size_t{1} << 20;

// The columns (csv) or keys (jsonl) a prediction adds, in their order. An input column or key of the same
// name gets the new value where it stands instead of coming twice.
enum Added : std::size_t { kLabel, kStage, kRule, kConfidence, kError, kAddedCount };
constexpr std::array<std::string_view, kAddedCount> kAddedNames = {"predicted_label", "stage", "rule", "confidence",
                                                                   "error"};
constexpr std::size_t kNotAdded = kAddedCount;

std::size_t added_column(std::string_view name) {
  const auto* found = std::find(kAddedNames.begin(), kAddedNames.end(), name);
  return static_cast<std::size_t>(found - kAddedNames.begin());
}

// For the lines format, whose fields are separated by TAB and rows by LF: a backslash, TAB, LF and CR are
// written as \\, \t, \n and \r, so that every field can be cut out at tabs and read back exactly.
void append_escaped(std::string& out, std::string_view text) {
  const char* p = text.data();
  const char* end = p + text.size();
  for (;;) {
    const char* special = io::swar::find_first(
        p, end,
        [](uint64_t w) {
          return io::swar::equal(w, '\\') | io::swar::equal(w, '\t') | io::swar::equal(w, '\n') |
                 io::swar::equal(w, '\r');
        },
        [](char c) { return c == '\\' || c == '\t' || c == '\n' || c == '\r'; });
    out.append(p, special);
    if (special == end) break;
    out += '\\';
    out += *special == '\t' ? 't' : *special == '\n' ? 'n' : *special == '\r' ? 'r' : '\\';
    p = special + 1;
  }
}

// Formats rows into one buffer, sent to the destination in kFlushBytes blocks. Destroyed without
// commit(), a file writer removes its temporary file, and a stdout writer drops what it has not
// flushed yet, so an aborted run ends at a row boundary.
class Writer final : public RecordWriter {
 public:
  enum class Target { memory, standard_output, file };

  Writer(const RecordReader& input, const WriteOptions& options, Target target, const std::string& path)
      : options_(options), input_format_(input.format()), target_(target) {
    if (target_ == Target::file) file_.emplace(path);
    if (input_format_ == Format::csv) {
      input_columns_ = input.columns();
    } else {
      // The message column keeps the name the reader was told (options.message_fields.front()).
      input_columns_ = {input.columns().front()};
      if (input_format_ == Format::jsonl) input_columns_.push_back("source");
    }
    for (const std::string& column : input_columns_) {
      const std::size_t added = added_column(column);
      added_at_.push_back(added);
      if (added != kNotAdded) in_input_[added] = true;
    }
    if (target_ != Target::memory) buffer_.reserve(kFlushBytes + kFlushBytes / 4);
    if (options_.format == Format::csv) write_csv_header();
    if (options_.format == Format::json) buffer_ += '[';
  }

  void write(const Record& record, const Prediction& prediction) override {
    const std::size_t start = buffer_.size();
    format(record, prediction, buffer_);
    if (options_.format == Format::json && !elements_) {
      buffer_.erase(start, 1);
      elements_ = true;
    }
    if (target_ != Target::memory && buffer_.size() >= kFlushBytes) flush();
  }

  void format(const Record& record, const Prediction& prediction, std::string& out) const override {
    // A bad record has no prediction: an empty label, stage, rule and confidence.
    static const Prediction kNone;
    const Prediction& p = record.error.empty() ? prediction : kNone;
    switch (options_.format) {
      case Format::csv: write_csv(record, p, out); break;
      case Format::jsonl: write_jsonl(record, p, out); break;
      case Format::json:
        // Each element comes after ",\n": the writer drops the comma before the first one (rows are
        // formatted apart from it, on many threads).
        out += ",\n";
        write_jsonl(record, p, out);
        out.pop_back();
        break;
      case Format::lines: write_lines(record, p, out); break;
    }
  }

  void write_formatted(std::string_view rows) override {
    if (options_.format == Format::json && !elements_ && !rows.empty()) {
      rows.remove_prefix(1);
      elements_ = true;
    }
    if (target_ == Target::memory || rows.size() < kFlushBytes / 16) {
      buffer_ += rows;
      if (target_ != Target::memory && buffer_.size() >= kFlushBytes) flush();
      return;
    }
    flush();  // a large block goes out as it is, without a copy into the buffer
    send(rows);
  }

  // To the file or standard output.
  void send(std::string_view data) {
    if (file_) {
      file_->write(data);
    } else {
      io::write_all(STDOUT_FILENO, data, "<stdout>");
    }
  }

  void flush() override {
    if (target_ == Target::memory || buffer_.empty()) return;
    send(buffer_);
    buffer_.clear();
  }

  void commit() override {
    if (options_.format == Format::json) buffer_ += elements_ ? "\n]\n" : "]\n";
    flush();
    if (file_) file_->commit();
  }

  const std::string& str() const override {
    static const std::string kNothing;
    return target_ == Target::memory ? buffer_ : kNothing;
  }

 private:
  // The record's values for input_columns_.
  const std::vector<std::string_view>& input_values(const Record& record) const {
    thread_local std::vector<std::string_view> values_;
    values_.clear();
    if (input_format_ == Format::csv) {
      if (record.fields.size() != input_columns_.size()) {
        throw Error("record of line " + std::to_string(record.line) + " has " + std::to_string(record.fields.size()) +
                    " fields, the input has " + std::to_string(input_columns_.size()) + " columns");
      }
      values_.assign(record.fields.begin(), record.fields.end());
    } else {
      values_.push_back(record.error.empty() ? record.message : record.raw);
      if (input_format_ == Format::jsonl) values_.push_back(record.source);
    }
    return values_;
  }

  // Whether the output has added column `c` for a record: csv (and lines) output always has the same
  // columns; jsonl output adds "error" to bad records only.
  bool adds(std::size_t c, bool bad) const {
    if (c == kError) return options_.format == Format::csv ? options_.error_column : bad;
    return c == kLabel || options_.explain;
  }

  // Whether the input has a column the csv output replaces, so that rows cannot be copied as read.
  bool csv_replaces() const {
    for (std::size_t c = 0; c < kAddedCount; ++c)
      if (in_input_[c] && adds(c, false)) return true;
    return false;
  }

  void write_csv_header() {
    for (const std::string& column : input_columns_) {
      // A first column name starting with a byte-order mark is quoted, or readers would take the mark
      // for the file's own and drop it.
      append_csv(buffer_, column, &column == &input_columns_.front() && column.starts_with("\xEF\xBB\xBF"));
      buffer_ += ',';
    }
    buffer_.pop_back();
    for (std::size_t c = 0; c < kAddedCount; ++c) {
      if (!adds(c, false) || in_input_[c]) continue;
      buffer_ += ',';
      buffer_ += kAddedNames[c];
    }
    buffer_ += '\n';
  }

  // Added column `c` of a record (a bad one has only its error).
  static void append_added_csv(std::string& out, std::size_t c, const Record& record, const Prediction& prediction) {
    const bool bad = !record.error.empty();
    switch (c) {
      case kLabel: append_csv(out, prediction.label); break;
      case kStage: if (!bad) out += logclf::to_string(prediction.stage); break;
      case kRule: append_csv(out, prediction.rule); break;
      case kConfidence: if (!bad) append_confidence(out, prediction.confidence); break;
      case kError: append_csv(out, record.error); break;
    }
  }

  void write_csv(const Record& record, const Prediction& prediction, std::string& out) const {
    const bool bad = !record.error.empty();
    if (input_format_ == Format::csv && !bad && !record.raw.empty() &&
        record.fields.size() == input_columns_.size() && !csv_replaces()) {
      out += record.raw;  // the row as the user wrote it; no field is quoted again
    } else {
      const auto& values = input_values(record);
      for (std::size_t i = 0; i < values.size(); ++i) {
        if (i > 0) out += ',';
        if (added_at_[i] != kNotAdded && adds(added_at_[i], bad)) {
          append_added_csv(out, added_at_[i], record, prediction);
        } else {
          append_csv(out, values[i]);
        }
      }
    }
    for (std::size_t c = 0; c < kAddedCount; ++c) {
      if (!adds(c, bad) || in_input_[c]) continue;
      out += ',';
      append_added_csv(out, c, record, prediction);
    }
    out += '\n';
  }

  // Added key `c`'s value for a record: a bad one has a null label, stage, rule and confidence.
  static void append_added_json(std::string& out, std::size_t c, const Record& record, const Prediction& prediction) {
    if (c == kError) {
      append_json(out, record.error);
    } else if (!record.error.empty()) {
      out += "null";
    } else {
      io::append_prediction_value(out, kAddedNames[c], prediction);
    }
  }

  // JSON lines input keeps its object text: the value of a key the output adds is replaced where it stands
  // (each time, should the key come twice), and the keys it lacks are inserted before the closing brace.
  void write_jsonl(const Record& record, const Prediction& prediction, std::string& out) const {
    const bool bad = !record.error.empty();
    const std::string_view object = record.fields.size() == 1 ? std::string_view(record.fields[0]) : "";
    if (input_format_ == Format::jsonl && !object.empty() && object.back() == '}') {
      std::array<std::string_view, kAddedCount> keys;
      std::array<std::size_t, kAddedCount> columns;
      std::size_t n = 0;
      for (std::size_t c = 0; c < kAddedCount; ++c) {
        if (!adds(c, bad)) continue;
        keys[n] = kAddedNames[c];
        columns[n++] = c;
      }
      io::append_object_with(out, object, std::span(keys.data(), n),
                             [&](std::size_t i, std::string& o) { append_added_json(o, columns[i], record, prediction); });
      out += '\n';
      return;
    }
    std::array<bool, kAddedCount> present{};
    bool members = false;  // the object has a member before the keys added
    if (input_format_ != Format::csv && bad) {  // a line that is no JSON object, or too long
      out += "{\"raw\":";
      append_json(out, record.raw);
      members = true;
    } else {
      // Objects built from columns, also for jsonl Records made without their text (e.g. by a server).
      const auto& values = input_values(record);
      out += '{';
      for (std::size_t i = 0; i < values.size(); ++i) {
        if (i > 0) out += ',';
        append_json(out, input_columns_[i]);
        out += ':';
        if (added_at_[i] != kNotAdded && adds(added_at_[i], bad)) {
          append_added_json(out, added_at_[i], record, prediction);
          present[added_at_[i]] = true;
        } else {
          append_json(out, values[i]);
        }
      }
      members = !values.empty();
    }
    for (std::size_t c = 0; c < kAddedCount; ++c) {
      if (!adds(c, bad) || present[c]) continue;
      if (members) out += ',';
      out += '"';
      out += kAddedNames[c];
      out += "\":";
      append_added_json(out, c, record, prediction);
      members = true;
    }
    out += "}\n";
  }

  void write_lines(const Record& record, const Prediction& prediction, std::string& out) const {
    const bool bad = !record.error.empty();
    append_escaped(out, prediction.label);
    out += '\t';
    if (options_.explain && bad) {
      out += "\t\t\t";
    } else if (options_.explain) {
      out += logclf::to_string(prediction.stage);
      out += '\t';
      append_escaped(out, prediction.rule);
      out += '\t';
      append_confidence(out, prediction.confidence);
      out += '\t';
    }
    if (options_.error_column) {
      append_escaped(out, record.error);
      out += '\t';
    }
    append_escaped(out, bad ? record.raw : record.message);
    out += '\n';
  }

  WriteOptions options_;
  Format input_format_;
  Target target_;
  std::optional<io::AtomicFile> file_;
  std::vector<std::string> input_columns_;
  std::vector<std::size_t> added_at_;          // for each input column, the added column of its name or kNotAdded
  std::array<bool, kAddedCount> in_input_{};  // the input has a column of this name
  std::string buffer_;
  bool elements_ = false;  // json: an element has been written
};

}  // namespace

std::unique_ptr<RecordWriter> RecordWriter::open(const std::string& path, const RecordReader& input,
                                                 const WriteOptions& options) {
  if (path == "-") return std::make_unique<Writer>(input, options, Writer::Target::standard_output, path);
  return std::make_unique<Writer>(input, options, Writer::Target::file, path);
}

std::unique_ptr<RecordWriter> RecordWriter::to_string(const RecordReader& input, const WriteOptions& options) {
  return std::make_unique<Writer>(input, options, Writer::Target::memory, "");
}

}  // namespace logclf
