// Fuzzes the CSV reader. Besides crashes it checks that (1) reading the input in small chunks gives
// the same records or error as reading it at once, and (2) the records survive a CSV write and re-read.
#include <cstddef>
#include <cstdint>
#include <string>
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
         a.fields == b.fields;
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
  options.message_field = data[0] & 8 ? "a" : "log_message";
  options.label_field = "b";
  const std::size_t chunk = 1 + (data[0] >> 4);
  const std::string input(reinterpret_cast<const char*>(data) + 1, size - 1);

  const Result whole = read_all(input, std::string::npos, options);
  const Result chunked = read_all(input, chunk, options);
  if (whole.error != chunked.error || whole.records.size() != chunked.records.size()) __builtin_trap();
  for (std::size_t i = 0; i < whole.records.size(); ++i) {
    if (!same(whole.records[i], chunked.records[i])) __builtin_trap();
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
  logclf::ReadOptions again;
  again.message_field = options.message_field;
  again.source_field = options.source_field;
  again.label_field = options.label_field;
  const Result back = read_all(writer->str(), std::string::npos, again);
  std::vector<std::string> columns = whole.columns;
  columns.push_back("predicted_label");
  if (!back.error.empty() || back.columns != columns || back.records.size() != whole.records.size()) __builtin_trap();
  for (std::size_t i = 0; i < whole.records.size(); ++i) {
    std::vector<std::string> fields = whole.records[i].fields;
    fields.push_back("L");
    if (back.records[i].fields != fields) __builtin_trap();
  }
  return 0;
}
