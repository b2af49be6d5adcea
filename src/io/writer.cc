#include <unistd.h>

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
    if (target_ != Target::memory) buffer_.reserve(kFlushBytes + kFlushBytes / 4);
    if (options_.format == Format::csv) write_csv_header();
  }

  void write(const Record& record, const Prediction& prediction) override {
    format(record, prediction, buffer_);
    if (target_ != Target::memory && buffer_.size() >= kFlushBytes) flush();
  }

  void format(const Record& record, const Prediction& prediction, std::string& out) const override {
    // A bad record has no prediction: an empty label, stage, rule and confidence.
    static const Prediction kNone;
    const Prediction& p = record.error.empty() ? prediction : kNone;
    switch (options_.format) {
      case Format::csv: write_csv(record, p, out); break;
      case Format::jsonl: write_jsonl(record, p, out); break;
      case Format::lines: write_lines(record, p, out); break;
    }
  }

  void write_formatted(std::string_view rows) override {
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

  void write_csv_header() {
    for (const std::string& column : input_columns_) {
      // A first column name starting with a byte-order mark is quoted, or readers would take the mark
      // for the file's own and drop it.
      append_csv(buffer_, column, &column == &input_columns_.front() && column.starts_with("\xEF\xBB\xBF"));
      buffer_ += ',';
    }
    buffer_ += options_.explain ? "predicted_label,stage,rule,confidence" : "predicted_label";
    buffer_ += options_.error_column ? ",error\n" : "\n";
  }

  void write_csv(const Record& record, const Prediction& prediction, std::string& out) const {
    const bool bad = !record.error.empty();
    if (input_format_ == Format::csv && !bad && !record.raw.empty() && record.fields.size() == input_columns_.size()) {
      out += record.raw;  // the row as the user wrote it; no field is quoted again
      out += ',';
    } else {
      for (std::string_view value : input_values(record)) {
        append_csv(out, value);
        out += ',';
      }
    }
    append_csv(out, prediction.label);
    if (options_.explain && bad) {
      out += ",,,";
    } else if (options_.explain) {
      out += ',';
      out += logclf::to_string(prediction.stage);
      out += ',';
      append_csv(out, prediction.rule);
      out += ',';
      append_confidence(out, prediction.confidence);
    }
    if (options_.error_column) {
      out += ',';
      append_csv(out, record.error);
    }
    out += '\n';
  }

  // JSON lines input keeps its object text with the new keys inserted before the closing brace. If the
  // object already has a key of the same name, the added one comes last, and JSON parsers keep the last.
  void write_jsonl(const Record& record, const Prediction& prediction, std::string& out) const {
    const bool bad = !record.error.empty();
    const std::string_view object = record.fields.size() == 1 ? std::string_view(record.fields[0]) : "";
    if (input_format_ == Format::jsonl && !object.empty() && object.back() == '}') {
      const std::size_t close = object.size() - 1;
      const std::size_t before = object.find_last_not_of(" \t\r\n", close - 1);
      out.append(object, 0, close);
      if (before != object.npos && object[before] != '{') out += ',';
    } else if (input_format_ != Format::csv && bad) {  // a line that is no JSON object, or too long
      out += "{\"raw\":";
      append_json(out, record.raw);
      out += ',';
    } else {
      // Objects built from columns, also for jsonl Records made without their text (e.g. by a server).
      const auto& values = input_values(record);
      out += '{';
      for (std::size_t i = 0; i < values.size(); ++i) {
        append_json(out, input_columns_[i]);
        out += ':';
        append_json(out, values[i]);
        out += ',';
      }
    }
    if (bad) {
      out += "\"predicted_label\":";
      append_json(out, prediction.label);
      if (options_.explain) out += ",\"stage\":null,\"rule\":null,\"confidence\":null";
    } else {
      io::append_prediction_keys(out, prediction, options_.explain);
    }
    if (bad) {
      out += ",\"error\":";
      append_json(out, record.error);
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
  std::string buffer_;
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
