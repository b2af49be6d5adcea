// Fuzzes the JSON lines reader. Besides crashes it checks that (1) reading in small chunks, and
// reading with nlohmann's parser only, give the same records or error as the fast path reading all at
// once, (2) keeping bad records gives the same records up to the first bad one, which carries the error
// that reading without keeping them throws, and reads on the same whatever the chunks, (3) the extracted
// fields agree with a DOM parse of the same text (without paths), and (4) the jsonl writer's insertion
// yields valid JSON whose predicted_label is the added one, for bad records too.
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/jsonl_reader.h"
#include "logclf/io.h"

namespace {

// Each record ("R" and its fields, or "E" and the error for a bad one), then the Error thrown, if any.
struct Outcome {
  std::vector<std::string> records;
  std::string error;
  bool operator==(const Outcome&) const = default;
};

Outcome describe(const std::string& input, std::size_t chunk, const logclf::ReadOptions& options, bool fast) {
  Outcome result;
  try {
    auto reader =
        logclf::io::make_jsonl_reader(logclf::io::InputSource::from_string(input, chunk), "fuzz.jsonl", options, fast);
    logclf::Record r;
    while (reader->next(r)) {
      if (!r.error.empty()) {
        result.records.push_back("E" + r.error + '\0' + std::to_string(r.line) + '\0' + r.raw + '\0' +
                                 std::to_string(r.fields.size()));
      } else {
        result.records.push_back("R" + std::to_string(r.line) + '\0' + r.message + '\0' + r.source + '\0' + r.label +
                                 '\0' + r.fields.at(0));
      }
    }
  } catch (const logclf::Error& e) {
    result.error = e.what();
  }
  return result;
}

// What reading without keeping bad records gives, from what reading with it gave.
Outcome as_thrown(const Outcome& kept) {
  Outcome result;
  for (const std::string& record : kept.records) {
    if (record[0] == 'E') {
      result.error = record.substr(1, record.find('\0') - 1);  // as what() gives it: up to a NUL
      return result;
    }
    result.records.push_back(record);
  }
  result.error = kept.error;
  return result;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  logclf::ReadOptions options;
  options.format = logclf::Format::jsonl;
  options.strict_utf8 = data[0] & 1;
  options.require_label = data[0] & 2;
  options.max_record_bytes = data[0] & 4 ? 64 : std::size_t{16} << 20;
  // Bit 3: several message names, one of them a path into nested objects, and a nested source field.
  const bool paths = data[0] & 8;
  options.message_fields =
      paths ? std::vector<std::string>{"m.a.b", "m", "log_message"} : std::vector<std::string>{"log_message"};
  options.source_field = paths ? "s.t" : "s";
  options.label_field = "l";
  const std::size_t chunk = 1 + (data[0] >> 4);
  const std::string input(reinterpret_cast<const char*>(data) + 1, size - 1);

  const Outcome expected = describe(input, std::string::npos, options, true);
  if (describe(input, chunk, options, true) != expected) __builtin_trap();
  if (describe(input, std::string::npos, options, false) != expected) __builtin_trap();

  logclf::ReadOptions keep = options;
  keep.keep_bad_records = true;
  const Outcome kept = describe(input, std::string::npos, keep, true);
  if (as_thrown(kept) != expected) __builtin_trap();
  if (describe(input, chunk, keep, true) != kept) __builtin_trap();
  if (describe(input, std::string::npos, keep, false) != kept) __builtin_trap();

  try {
    auto reader = logclf::RecordReader::from_string(input, "fuzz.jsonl", keep);
    logclf::WriteOptions wo{logclf::Format::jsonl, true};
    wo.error_column = true;
    auto writer = logclf::RecordWriter::to_string(*reader, wo);
    logclf::Prediction prediction;
    prediction.label = "L\"\n";
    logclf::Record record;
    while (reader->next(record)) {
      const bool bad = !record.error.empty();
      if (!bad) {
        const auto object = nlohmann::json::parse(record.fields.at(0));
        if (!object.is_object()) __builtin_trap();
        const std::string* message = nullptr;
        for (const std::string& name : options.message_fields) {
          if (const auto found = object.find(name); found != object.end()) {
            message = found->get_ptr<const std::string*>();
            break;
          }
        }
        // With paths, duplicate keys make the DOM (the last duplicate object wins whole) and the reader (each
        // path's last value wins) disagree by design: only the reader's own agreements above are checked.
        if (!paths && (message == nullptr || *message != record.message)) __builtin_trap();
        for (const auto& [key, value] : {std::pair{"s", &record.source}, std::pair{"l", &record.label}}) {
          const auto found = object.find(key);
          if (!paths && found != object.end() && !found->is_null() && *found != *value) __builtin_trap();
        }
      }
      writer->write(record, prediction);
      const std::string& text = writer->str();
      const std::size_t start = text.rfind('\n', text.size() - 2);
      const auto written = nlohmann::json::parse(text.substr(start == std::string::npos ? 0 : start + 1));
      const auto& label = written.at("predicted_label");
      if ((bad ? !label.is_null() : label != prediction.label) || !written.at("rule").is_null()) __builtin_trap();
      if (bad && written.at("error") != record.error) __builtin_trap();
    }
  } catch (const logclf::Error&) {
  }
  return 0;
}
