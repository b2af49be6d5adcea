#include "io/csv_reader.h"
#include "io/jsonl_reader.h"
#include "io/lines_reader.h"

namespace logclf {

namespace {

std::unique_ptr<RecordReader> make_reader(io::InputSource source, std::string name, const ReadOptions& options) {
  if (options.message_fields.empty()) throw Error(name + ": no name given for the message field");
  switch (options.format) {
    case Format::csv: return io::make_csv_reader(std::move(source), std::move(name), options);
    case Format::jsonl:
    case Format::json: return io::make_jsonl_reader(std::move(source), std::move(name), options);
    case Format::lines: return io::make_lines_reader(std::move(source), std::move(name), options);
  }
  throw Error(name + ": unknown input format");
}

}  // namespace

std::unique_ptr<RecordReader> RecordReader::open(const std::string& path, const ReadOptions& options) {
  return make_reader(io::InputSource::open(path), path == "-" ? "<stdin>" : path, options);
}

std::vector<LabeledLine> read_labeled(const std::string& path, ReadOptions options) {
  options.require_label = true;
  options.keep_bad_records = false;
  auto reader = RecordReader::open(path, options);
  std::vector<LabeledLine> rows;
  Record record;
  while (reader->next(record)) rows.push_back({record.message, record.source, record.label});
  if (rows.empty()) throw Error(reader->name() + ": no rows");
  return rows;
}

std::unique_ptr<RecordReader> RecordReader::from_string(std::string data, std::string name,
                                                        const ReadOptions& options) {
  return make_reader(io::InputSource::from_string(std::move(data)), std::move(name), options);
}

}  // namespace logclf
