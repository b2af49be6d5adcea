// Fuzzes the Kafka worker's record codec. Besides crashes it checks that a value it accepts gives an output
// value that is one valid JSON object whose predicted_label is the added one and whose message (under the
// first message key) is the decoded message; and that a JSON object value keeps its keys.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "kafka/record_codec.h"
#include "logclf/kafka.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static logclf::kafka::RecordCodec codec([] {
    logclf::KafkaOptions options;
    options.explain = true;
    return options;
  }());
  logclf::Record record;
  const char* value = size == 0 ? nullptr : reinterpret_cast<const char*>(data);
  if (!codec.decode(value, size, record).empty()) return 0;
  logclf::Prediction prediction;
  prediction.label = "L\"1\n";
  prediction.stage = logclf::Stage::model;
  prediction.confidence = 0.5;
  std::string out;
  codec.encode(record, prediction, out);
  nlohmann::json parsed;
  try {
    parsed = nlohmann::json::parse(out);
  } catch (const nlohmann::json::exception&) {
    std::abort();  // the output must be JSON
  }
  if (!parsed.is_object() || parsed.value("predicted_label", "") != prediction.label) std::abort();
  if (record.fields.empty() && parsed.value("log_message", "") != record.message) std::abort();
  if (!record.fields.empty()) {
    const auto in = nlohmann::json::parse(record.fields[0]);
    for (const auto& [key, v] : in.items())
      if (key != "predicted_label" && key != "stage" && key != "rule" && key != "confidence" && parsed[key] != v)
        std::abort();
  }
  return 0;
}
