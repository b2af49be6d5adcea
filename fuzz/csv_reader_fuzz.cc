// Fuzzes the CSV reader. Besides crashes it checks that (1) reading the input in small chunks gives
// the same records or error as reading it at once, also when bad records are kept, (2) keeping bad records
// gives the same records up to the first bad one, which carries the error that reading without keeping
// them throws, and (3) the records, bad ones included, survive a CSV write and re-read.
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "io/csv_reader.h"
#include "logclf/io.h"

namespace {

struct Result {
  std::vector<logclf::Record> records;
  std::string error;
  std::vector<std::string> columns;
};

Result read_all(const std::string& input, std::size_t chunk, const logclf::ReadOptions& options) {
  Result result;
  try {
    auto reader = logclf::io::make_csv_reader(logclf::io::InputSource::from_string(input, chunk), "fuzz.csv", options);
    result.columns = reader->columns();
    logclf::Record record;
    while (reader->next(record)) result.records.push_back(record);
  } catch (const logclf::Error& e) {
    result.error = e.what();
  }
  return result;
}

bool same(const logclf::Record& a, const logclf::Record& b) {
  return a.line == b.line && a.message == b.message && a.source == b.source && a.label == b.label &&
         a.fields == b.fields && a.error == b.error && (a.error.empty() || a.raw == b.raw);
}

bool same(const Result& a, const Result& b) {
  if (a.error != b.error || a.records.size() != b.records.size()) return false;
  for (std::size_t i = 0; i < a.records.size(); ++i) {
    if (!same(a.records[i], b.records[i])) return false;
  }
  return true;
}

// Options reading the written output back with the same column names (and nothing else of `options`).
logclf::ReadOptions same_columns(const logclf::ReadOptions& options) {
  logclf::ReadOptions again;
  again.message_fields = options.message_fields;
  again.source_field = options.source_field;
  again.label_field = options.label_field;
  return again;
}

// The fields the writer writes for a row: `fields` with each added column's value in the place of the
// input's column of that name, or appended when there is none.
std::vector<std::string> with_added(const std::vector<std::string>& columns, std::vector<std::string> fields,
                                    const std::vector<std::pair<std::string, std::string>>& added) {
  for (const auto& [name, value] : added) {
    bool present = false;
    for (std::size_t i = 0; i < columns.size(); ++i) {
      if (columns[i] != name) continue;
      fields[i] = value;
      present = true;
    }
    if (!present) fields.push_back(value);
  }
  return fields;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // The first byte picks the options and the chunk size.
  logclf::ReadOptions options;
  options.format = logclf::Format::csv;
  options.strict_utf8 = data[0] & 1;
  options.require_label = data[0] & 2;
  options.max_record_bytes = data[0] & 4 ? 64 : std::size_t{16} << 20;
  options.message_fields = data[0] & 8 ? std::vector<std::string>{"a", "log_message"} : std::vector<std::string>{"log_message"};
  options.label_field = "b";
  const std::size_t chunk = 1 + (data[0] >> 4);
  const std::string input(reinterpret_cast<const char*>(data) + 1, size - 1);

  const Result whole = read_all(input, std::string::npos, options);
  if (!same(read_all(input, chunk, options), whole)) __builtin_trap();

  logclf::ReadOptions keep = options;
  keep.keep_bad_records = true;
  const Result kept = read_all(input, std::string::npos, keep);
  if (!same(read_all(input, chunk, keep), kept)) __builtin_trap();
  // Only a problem of the whole input (its header) is still an Error; a bad record is there instead.
  if (!kept.error.empty() && (kept.error != whole.error || !kept.records.empty())) __builtin_trap();
  if (kept.error.empty() && kept.records.size() < whole.records.size() + (whole.error.empty() ? 0 : 1)) __builtin_trap();
  if (whole.error.empty() && kept.records.size() != whole.records.size()) __builtin_trap();
  for (std::size_t i = 0; i < kept.records.size(); ++i) {
    const logclf::Record& r = kept.records[i];
    if (i < whole.records.size()) {
      if (!same(r, whole.records[i])) __builtin_trap();
    } else if (i == whole.records.size()) {
      if (r.error.empty() || whole.error != r.error.c_str()) __builtin_trap();  // what() ends at a NUL
    }
    // At most max_record_bytes as read; each invalid byte may become a 3-byte U+FFFD.
    if (!r.error.empty() && r.raw.size() > 3 * options.max_record_bytes) __builtin_trap();
  }
  if (kept.error.empty()) {
    // Bad records written through with an error column read back as they were written.
    auto reader = logclf::RecordReader::from_string(input, "fuzz.csv", keep);
    logclf::Prediction prediction;
    prediction.label = "L";
    logclf::WriteOptions wo;
    wo.error_column = true;
    auto writer = logclf::RecordWriter::to_string(*reader, wo);
    for (const auto& record : kept.records) writer->write(record, prediction);
    writer->commit();
    const Result back = read_all(writer->str(), std::string::npos, same_columns(options));
    if (!back.error.empty() || back.records.size() != kept.records.size()) __builtin_trap();
    for (std::size_t i = 0; i < kept.records.size(); ++i) {
      const logclf::Record& r = kept.records[i];
      const auto fields = with_added(kept.columns, r.fields, {{"predicted_label", r.error.empty() ? "L" : ""}, {"error", r.error}});
      if (back.records[i].fields != fields) __builtin_trap();
    }
  }
  if (!whole.error.empty()) return 0;

  auto reader = logclf::RecordReader::from_string(input, "fuzz.csv", options);
  logclf::Prediction prediction;
  prediction.label = "L";
  auto writer = logclf::RecordWriter::to_string(*reader, logclf::WriteOptions{});
  for (const auto& record : whole.records) writer->write(record, prediction);
  writer->commit();

  // Read back with the same column names: with other ones a column that did not matter before (say a
  // second 'target_label') would now be an error.
  const Result back = read_all(writer->str(), std::string::npos, same_columns(options));
  const auto columns = with_added(whole.columns, whole.columns, {{"predicted_label", "predicted_label"}});
  if (!back.error.empty() || back.columns != columns || back.records.size() != whole.records.size()) __builtin_trap();
  for (std::size_t i = 0; i < whole.records.size(); ++i) {
    if (back.records[i].fields != with_added(whole.columns, whole.records[i].fields, {{"predicted_label", "L"}})) __builtin_trap();
  }
  return 0;
}
