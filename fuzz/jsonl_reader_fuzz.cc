// Fuzzes the JSON lines reader. Besides crashes it checks that (1) reading in small chunks, and
// reading with nlohmann's parser only, give the same records or error as the fast path reading all at
// once, (2) the extracted fields agree with a DOM parse of the same text, and (3) the jsonl writer's
// insertion yields valid JSON whose predicted_label is the added one.
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/jsonl_reader.h"
#include "logclf/io.h"

namespace {

std::string describe(const std::string& input, std::size_t chunk, const logclf::ReadOptions& options, bool fast) {
  std::string result;
  try {
    auto reader =
        logclf::io::make_jsonl_reader(logclf::io::InputSource::from_string(input, chunk), "fuzz.jsonl", options, fast);
    logclf::Record r;
    while (reader->next(r)) {
      result += std::to_string(r.line) + '\0' + r.message + '\0' + r.source + '\0' + r.label + '\0' + r.fields.at(0) + '\n';
    }
  } catch (const logclf::Error& e) {
    result += std::string("error ") + e.what();
  }
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
  options.message_field = data[0] & 8 ? "m" : "log_message";
  options.source_field = "s";
  options.label_field = "l";
  const std::size_t chunk = 1 + (data[0] >> 4);
  const std::string input(reinterpret_cast<const char*>(data) + 1, size - 1);

  const std::string expected = describe(input, std::string::npos, options, true);
  if (describe(input, chunk, options, true) != expected) __builtin_trap();
  if (describe(input, std::string::npos, options, false) != expected) __builtin_trap();

  try {
    auto reader = logclf::RecordReader::from_string(input, "fuzz.jsonl", options);
    auto writer = logclf::RecordWriter::to_string(*reader, logclf::WriteOptions{logclf::Format::jsonl, true});
    logclf::Prediction prediction;
    prediction.label = "L\"\n";
    logclf::Record record;
    while (reader->next(record)) {
      const auto object = nlohmann::json::parse(record.fields.at(0));
      if (!object.is_object() || object.at(options.message_field) != record.message) __builtin_trap();
      for (const auto& [key, value] : {std::pair{"s", &record.source}, std::pair{"l", &record.label}}) {
        const auto found = object.find(key);
        if (found != object.end() && !found->is_null() && *found != *value) __builtin_trap();
      }
      writer->write(record, prediction);
      const std::string& text = writer->str();
      const std::size_t start = text.rfind('\n', text.size() - 2);
      const auto written = nlohmann::json::parse(text.substr(start == std::string::npos ? 0 : start + 1));
      if (written.at("predicted_label") != prediction.label || !written.at("rule").is_null()) __builtin_trap();
    }
  } catch (const logclf::Error&) {
  }
  return 0;
}
