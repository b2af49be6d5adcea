#include "io/csv_reader.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "io/reader_util.h"
#include "io/swar.h"
#include "io/utf8.h"

namespace logclf::io {

namespace {

// Bounds the header's vector even when max_record_bytes is large and the header is all commas.
constexpr std::size_t kMaxColumns = 65536;
constexpr std::size_t kNoColumn = static_cast<std::size_t>(-1);

bool is_blank(char c) { return c == ' ' || c == '\t'; }

// Offset of the first ',' or '\n' in data[pos, size), or size.
std::size_t find_delimiter(const char* data, std::size_t pos, std::size_t size) {
  const char* found = swar::find_first(
      data + pos, data + size, [](uint64_t w) { return swar::equal(w, ',') | swar::equal(w, '\n'); },
      [](char c) { return c == ',' || c == '\n'; });
  return static_cast<std::size_t>(found - data);
}

uint64_t count_newlines(const char* begin, const char* end) {
  uint64_t n = 0;
  while (const void* nl = std::memchr(begin, '\n', static_cast<std::size_t>(end - begin))) {
    ++n;
    begin = static_cast<const char*>(nl) + 1;
  }
  return n;
}

// When a header read as one column holds another common separator, the file was most likely written with
// it (a spreadsheet's locale, a TSV export): says so, since "missing column" alone leaves the user guessing.
std::string separator_hint(const std::vector<std::string>& columns) {
  if (columns.size() != 1) return "";
  struct Candidate {
    char c;
    const char* name;
  };
  const Candidate* best = nullptr;
  std::size_t best_count = 0;
  static constexpr Candidate kCandidates[] = {{';', "';'"}, {'\t', "tabs"}, {'|', "'|'"}};
  for (const Candidate& candidate : kCandidates) {
    const auto n = static_cast<std::size_t>(std::count(columns[0].begin(), columns[0].end(), candidate.c));
    if (n > best_count) {
      best = &candidate;
      best_count = n;
    }
  }
  if (best == nullptr) return "";
  return std::string("; the header looks separated by ") + best->name +
         ": logclf reads comma-separated files, save it with commas";
}

class CsvReader final : public RecordReader {
 public:
  CsvReader(InputSource source, std::string name, const ReadOptions& options);

  bool next(Record& out) override;
  const std::vector<std::string>& columns() const override { return columns_; }
  Format format() const override { return Format::csv; }
  const std::string& name() const override { return name_; }
  std::uint64_t bytes_read() const override { return source_.position(); }
  std::uint64_t total_bytes() const override { return source_.total_size(); }
  bool caught_up() const override { return source_.live() && source_.size() == 0; }
  void stop_when(const std::atomic<bool>* flag) override { source_.stop_when(flag); }

 private:
  enum class State { field_start, unquoted, quoted, quote_in_quoted, after_quoted };

  // Progress through one row, kept as offsets from source_.data() so that parsing can resume after a
  // fill() moved the buffer. The row's first byte stays at offset 0 until the row is consumed.
  struct Row {
    std::vector<std::string>* fields;
    std::size_t max_fields;     // fields past this are counted but not stored
    uint64_t line;              // where the row starts
    std::size_t pos = 0;
    std::size_t count = 0;      // index of the current field; the field count once done
    std::size_t field_begin = 0;
    std::size_t end = 0;        // end of the row's text, excluding its line terminator
    uint64_t newlines = 0;      // LFs consumed so far, inside quotes and the terminating one
    uint64_t quote_line = 0;    // where the current quoted field opened
    std::size_t quote_begin = 0;  // offset of its opening quote
    std::size_t no_newline_before = 0;  // the row has no '\n' before this offset
    State state = State::field_start;
  };

  // A row that cannot be a record: the line and the problem for its error, and where it ends: at the
  // first LF at or after offset `resume` of the window (or at the end of input).
  struct BadRow {
    uint64_t line;
    std::string problem;
    std::size_t resume;
  };

  bool more();
  bool at_row();
  std::size_t read_row(std::vector<std::string>& fields, std::size_t max_fields, Row& row,
                       std::string* raw = nullptr);
  void consume(const Row& row) {
    source_.consume(row.pos);
    line_ += row.newlines;
  }
  void skip_bad_row(const BadRow& bad, Record& out);
  bool split_simple_line(Row& row);
  bool parse(Row& row);
  std::string& field(Row& row);
  [[noreturn]] void too_long(uint64_t line, std::size_t resume) const {
    throw BadRow{line, "record longer than " + std::to_string(options_.max_record_bytes) + " bytes", resume};
  }

  InputSource source_;
  std::string name_;
  ReadOptions options_;
  bool eof_ = false;
  uint64_t line_ = 1;              // line of the next unread byte
  std::vector<std::string> columns_;
  std::vector<std::string> field_names_;  // "field 'NAME'", for UTF-8 errors
  std::size_t message_ = kNoColumn, source_column_ = kNoColumn, label_ = kNoColumn;
  std::string overflow_;           // receives fields past the expected count
  bool row_is_utf8_ = true;        // the last row read is valid UTF-8 as a whole
  bool in_body_ = false;           // the header has been read
  // A row may span at most this many bytes with its line terminator. parse() never looks further, so
  // that the outcome (record or error) does not depend on how much input happens to be buffered.
  std::size_t row_window_;
};

CsvReader::CsvReader(InputSource source, std::string name, const ReadOptions& options)
    : source_(std::move(source)),
      name_(std::move(name)),
      options_(options),
      row_window_(options.max_record_bytes > SIZE_MAX - 2 ? SIZE_MAX : options.max_record_bytes + 2) {
  while (source_.size() < 3 && more()) {
  }
  if (starts_with_bom(source_.data(), source_.size())) source_.consume(3);

  Row row{};
  std::size_t count;
  try {
    count = read_row(columns_, kMaxColumns + 1, row);
  } catch (const BadRow& bad) {
    throw_at(name_, bad.line, bad.problem);  // a bad header is the whole input's problem
  }
  if (count == 0) throw Error(name_ + ": empty input: expected a CSV header line");
  consume(row);
  in_body_ = true;
  const uint64_t line = row.line;
  if (count > kMaxColumns) throw_at(name_, line, "more than " + std::to_string(kMaxColumns) + " columns");
  columns_.resize(count);
  std::string joined;
  for (std::size_t i = 0; i < count; ++i) {
    std::string& column = columns_[i];
    const auto first = std::find_if_not(column.begin(), column.end(), is_blank);
    column.erase(column.begin(), first);
    while (!column.empty() && is_blank(column.back())) column.pop_back();
    ensure_utf8(column, options_.strict_utf8, name_, line, "the header");
    field_names_.push_back("field '" + column + "'");
    if (i > 0) joined += ", ";
    joined += column;
  }
  auto find = [&](const std::string& wanted, bool required) {
    std::size_t found = kNoColumn;
    for (std::size_t i = 0; i < count; ++i) {
      if (columns_[i] != wanted) continue;
      if (found != kNoColumn) throw Error(name_ + ": duplicate column '" + wanted + "'");
      found = i;
    }
    if (found == kNoColumn && required) {
      throw Error(name_ + ": missing column '" + wanted + "' (columns: " + joined + ")" +
                  separator_hint(columns_));
    }
    return found;
  };
  for (const std::string& name : options_.message_fields) {
    if ((message_ = find(name, options_.message_fields.size() == 1)) != kNoColumn) break;
  }
  if (message_ == kNoColumn) {
    throw Error(name_ + ": no column " + alternatives(options_.message_fields) + " (columns: " + joined + ")" +
                separator_hint(columns_));
  }
  source_column_ = find(options_.source_field, false);
  label_ = find(options_.label_field, options_.require_label);
}

bool CsvReader::more() {
  if (eof_) return false;
  if (source_.fill(name_)) return true;
  eof_ = true;
  return false;
}

// Skips completely empty lines before the header (after it a blank line is a row); false at end of input.
bool CsvReader::at_row() {
  for (;;) {
    const char* data = source_.data();
    const std::size_t size = source_.size();
    if (size == 0) {
      if (!more()) return false;
      continue;
    }
    if (in_body_ && data[0] != '\r') return true;
    if (data[0] == '\n') {
      source_.consume(1);
      ++line_;
      continue;
    }
    if (data[0] == '\r') {
      if (size == 1) {
        if (more()) continue;
        source_.consume(1);  // a CR alone at the very end: the rest of a line terminator, not a row
        return false;
      }
      if (data[1] == '\n' && !in_body_) {
        source_.consume(2);
        ++line_;
        continue;
      }
    }
    return true;
  }
}

// Reads the next row into `fields` (reusing its strings); returns its field count, 0 at end of input.
// The row stays in the window, its text at [0, row.end), until consume(row). Throws BadRow.
std::size_t CsvReader::read_row(std::vector<std::string>& fields, std::size_t max_fields, Row& row,
                                std::string* raw) {
  if (!at_row()) return 0;
  row = Row{&fields, max_fields, line_};
  const bool simple = split_simple_line(row);
  if (!simple) {
    while (!parse(row)) {
      // An unterminated quote more likely opened by mistake than a field this long: what follows the
      // line it opened on is read again.
      if (source_.size() > row_window_) too_long(row.line, row.state == State::quoted ? row.quote_begin : row.pos);
      more();  // at end of input, parse() finishes or fails the row
    }
  }
  if (row.end > options_.max_record_bytes) too_long(row.line, row.end);
  // One pass over the raw row instead of one call per field: delimiters are ASCII, so the fields of a
  // valid row are valid too.
  row_is_utf8_ = find_invalid_utf8(std::string_view(source_.data(), row.end)) == kValidUtf8;
  if (raw != nullptr) {
    // Kept only when writing the fields again would give the very same text: a row without quotes, CR,
    // or a field starting or ending with a blank (which the writer quotes).
    bool same = simple && row_is_utf8_ && row.count <= max_fields &&
                std::memchr(source_.data(), '\r', row.end) == nullptr;
    for (std::size_t i = 0; same && i < row.count; ++i) {
      const std::string& f = fields[i];
      same = f.empty() || (!is_blank(f.front()) && !is_blank(f.back()));
    }
    if (same) {
      raw->assign(source_.data(), row.end);
    } else {
      raw->clear();
    }
  }
  return row.count;
}

// Consumes a bad row, up to and including the first LF at or after bad.resume, reading on without holding
// more than the window, and makes `out` its record: the row's text in `raw` and in the message field
// (when it is no longer than a record may be).
void CsvReader::skip_bad_row(const BadRow& bad, Record& out) {
  out.line = line_;
  out.error = located(name_, bad.line, bad.problem);
  out.raw.clear();
  bool whole = true;  // the window still starts at the row's first byte
  std::size_t from = bad.resume;
  for (;;) {
    const char* data = source_.data();
    const std::size_t size = source_.size();
    const auto* nl = from < size ? static_cast<const char*>(std::memchr(data + from, '\n', size - from)) : nullptr;
    if (nl == nullptr && size <= row_window_ && more()) continue;  // more() keeps offsets valid
    const std::size_t end = nl != nullptr ? static_cast<std::size_t>(nl - data) : size;
    if (whole && (nl != nullptr || eof_)) {
      const std::size_t length = end > 0 && data[end - 1] == '\r' ? end - 1 : end;
      if (length <= options_.max_record_bytes) out.raw.assign(data, length);
    }
    const std::size_t taken = nl != nullptr ? end + 1 : size;
    line_ += count_newlines(data, data + taken);
    source_.consume(taken);
    if (nl != nullptr || eof_) break;
    whole = false;  // longer than the window: what is buffered is dropped, the rest as it arrives
    from = 0;
  }
  if (const std::size_t bad = find_invalid_utf8(out.raw); bad != kValidUtf8) replace_invalid_utf8(out.raw, bad);
  for (std::string& f : out.fields) f.clear();
  out.fields[message_] = out.raw;
  out.message.clear();
  out.source.clear();
  out.label.clear();
}

std::string& CsvReader::field(Row& row) {
  if (row.count >= row.max_fields) return overflow_;
  if (row.count >= row.fields->size()) row.fields->emplace_back();
  return (*row.fields)[row.count];
}

// The common case: a complete line without any quote is one row split at commas, found with memchr.
bool CsvReader::split_simple_line(Row& row) {
  const char* data = source_.data();
  const auto* nl = static_cast<const char*>(std::memchr(data, '\n', source_.size()));
  row.no_newline_before = nl ? static_cast<std::size_t>(nl - data) : source_.size();
  if (nl == nullptr) return false;
  std::size_t end = static_cast<std::size_t>(nl - data);
  if (std::memchr(data, '"', end) != nullptr) return false;
  row.pos = end + 1;
  row.newlines = 1;
  if (end > 0 && data[end - 1] == '\r') --end;
  row.end = end;
  std::size_t begin = 0;
  while (const void* comma = std::memchr(data + begin, ',', end - begin)) {
    const auto stop = static_cast<std::size_t>(static_cast<const char*>(comma) - data);
    field(row).assign(data + begin, stop - begin);
    ++row.count;
    begin = stop + 1;
  }
  field(row).assign(data + begin, end - begin);
  ++row.count;
  return true;
}

// Advances `row` over the buffered bytes; true once the row is complete. Returns false when it needs
// more input: before end of input, or when the row does not end within row_window_ bytes.
bool CsvReader::parse(Row& row) {
  const char* data = source_.data();
  const bool truncated = source_.size() > row_window_;
  const std::size_t size = truncated ? row_window_ : source_.size();
  const bool eof = eof_ && !truncated;
  std::size_t& pos = row.pos;
  for (;;) {
    switch (row.state) {
      case State::field_start: {
        std::size_t p = pos;
        while (p < size && is_blank(data[p])) ++p;
        if (p == size && !eof) return false;
        if (p < size && data[p] == '"') {
          field(row).clear();
          pos = p + 1;
          row.quote_line = row.line + row.newlines;
          row.quote_begin = p;
          row.state = State::quoted;
        } else {
          row.field_begin = pos;  // an unquoted field keeps its blanks
          row.state = State::unquoted;
        }
        break;
      }
      case State::unquoted: {
        // A quote inside an unquoted field (`ab"c`) is kept literally rather than rejected: such
        // fields occur in real logs and the intent is unambiguous.
        pos = find_delimiter(data, pos, size);
        if (pos == size && !eof) return false;
        if (pos < size && data[pos] == ',') {
          field(row).assign(data + row.field_begin, pos - row.field_begin);
          ++row.count;
          ++pos;
          row.state = State::field_start;
          break;
        }
        std::size_t end = pos;
        if (end > row.field_begin && data[end - 1] == '\r') --end;
        field(row).assign(data + row.field_begin, end - row.field_begin);
        ++row.count;
        row.end = end;
        if (pos < size) {
          ++pos;
          ++row.newlines;
        }
        return true;
      }
      case State::quoted: {
        const auto* quote = static_cast<const char*>(std::memchr(data + pos, '"', size - pos));
        const std::size_t stop = quote ? static_cast<std::size_t>(quote - data) : size;
        field(row).append(data + pos, stop - pos);
        if (stop > row.no_newline_before) row.newlines += count_newlines(data + pos, data + stop);
        pos = stop;
        if (quote == nullptr) {
          if (!eof) return false;
          throw BadRow{row.quote_line, "unterminated quoted field", row.quote_begin};
        }
        ++pos;
        row.state = State::quote_in_quoted;
        break;
      }
      case State::quote_in_quoted:
        if (pos == size) {
          if (!eof) return false;
          row.state = State::after_quoted;
        } else if (data[pos] == '"') {  // a doubled quote stands for one
          field(row).push_back('"');
          ++pos;
          row.state = State::quoted;
        } else {
          row.state = State::after_quoted;
        }
        break;
      case State::after_quoted: {
        while (pos < size && is_blank(data[pos])) ++pos;
        const std::size_t left = size - pos;
        if (left == 0 || (left == 1 && data[pos] == '\r')) {
          if (!eof) return false;
          ++row.count;
          row.end = pos;
          pos = size;
          return true;
        }
        if (data[pos] == ',') {
          ++row.count;
          ++pos;
          row.state = State::field_start;
          break;
        }
        const std::size_t terminator = data[pos] == '\n' ? 1 : data[pos] == '\r' && data[pos + 1] == '\n' ? 2 : 0;
        if (terminator == 0) throw BadRow{row.line + row.newlines, "unexpected text after a closing quote", pos};
        ++row.count;
        row.end = pos;
        pos += terminator;
        ++row.newlines;
        return true;
      }
    }
  }
}

bool CsvReader::next(Record& out) {
  out.fields.resize(columns_.size());
  out.error.clear();
  Row row{};
  try {
    std::size_t count = read_row(out.fields, columns_.size(), row, &out.raw);
    if (count == 0) return false;
    if (count == 1 && row.end == 0) {
      // A blank line: a row whose fields are all empty, so that no line of the input goes unanswered.
      for (std::string& f : out.fields) f.clear();
      count = columns_.size();
    }
    if (count != columns_.size()) {
      throw BadRow{row.line, "expected " + std::to_string(columns_.size()) + " fields, found " + std::to_string(count), row.end};
    }
    if (!row_is_utf8_) {
      for (std::size_t i = 0; i < count; ++i) {
        std::string problem = repair_utf8(out.fields[i], options_.strict_utf8, field_names_[i]);
        if (!problem.empty()) throw BadRow{row.line, std::move(problem), row.end};
      }
    }
    if (options_.require_label && out.fields[label_].empty()) {
      throw BadRow{row.line, "field '" + options_.label_field + "' is empty", row.end};
    }
  } catch (const BadRow& bad) {
    if (!options_.keep_bad_records) throw_at(name_, bad.line, bad.problem);
    skip_bad_row(bad, out);
    return true;
  }
  consume(row);
  out.line = row.line;
  out.message = out.fields[message_];
  if (source_column_ != kNoColumn) {
    out.source = out.fields[source_column_];
  } else {
    out.source.clear();
  }
  if (label_ != kNoColumn) {
    out.label = out.fields[label_];
  } else {
    out.label.clear();
  }
  return true;
}

}  // namespace

std::unique_ptr<RecordReader> make_csv_reader(InputSource source, std::string name, const ReadOptions& options) {
  return std::make_unique<CsvReader>(std::move(source), std::move(name), options);
}

}  // namespace logclf::io
