#include "kafka/record_codec.h"

#include "io/json_text.h"
#include "io/reader_util.h"

namespace logclf::kafka {

namespace {

ReadOptions json_options(const KafkaOptions& options) {
  ReadOptions read;
  read.format = Format::jsonl;
  read.message_fields = options.message_keys;
  read.source_field = options.source_key;
  // Records carry no label: naming the source again leaves the label's slot unused (a key's first slot
  // wins), so a record's "target_label", whatever its type, is passed through untouched.
  read.label_field = options.source_key;
  read.strict_utf8 = options.strict_utf8;
  return read;
}

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

}  // namespace

RecordCodec::RecordCodec(const KafkaOptions& options)
    : format_(options.input_format),
      strict_utf8_(options.strict_utf8),
      explain_(options.explain),
      max_bytes_(options.max_record_bytes),
      message_key_(options.message_keys.empty() ? "log_message" : options.message_keys.front()),
      json_(json_options(options)) {
  if (options.message_keys.empty()) throw Error("no message key given");
}

std::string RecordCodec::decode(const char* value, std::size_t size, Record& out) {
  out.message.clear();
  out.source.clear();
  out.label.clear();
  out.fields.clear();
  out.error.clear();
  if (value == nullptr) return "the record has no value";
  if (size > max_bytes_)
    return "the value has " + std::to_string(size) + " bytes, more than the limit of " + std::to_string(max_bytes_);
  std::string_view text(value, size);
  while (!text.empty() && is_blank(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_blank(text.back())) text.remove_suffix(1);
  const bool json = format_ == KafkaInputFormat::json || (format_ == KafkaInputFormat::automatic && text.starts_with('{'));
  if (!json) {
    out.message.assign(text);
    if (std::string problem = io::repair_utf8(out.message, strict_utf8_, "the value"); !problem.empty()) return problem;
    if (out.message.empty()) return "the value is empty";
    return {};
  }
  out.fields.resize(1);
  std::string& object = out.fields[0];
  object.assign(text);
  if (std::string problem = io::repair_utf8(object, strict_utf8_, "the value"); !problem.empty()) return problem;
  bool is_object = false;
  std::string problem = json_.parse(object, out, is_object);
  if (!problem.empty()) out.fields.clear();
  return problem;
}

void RecordCodec::encode(const Record& record, const Prediction& prediction, std::string& out) const {
  out.clear();
  static constexpr std::string_view kKeys[] = {"predicted_label", "stage", "rule", "confidence"};
  const std::span<const std::string_view> keys(kKeys, explain_ ? 4 : 1);
  if (record.fields.size() == 1) {
    // A good JSON record's text ends with its closing brace (trimmed by decode). A key the object has
    // already gets its new value where it stands, as in the CLI's JSON lines output.
    io::append_object_with(out, record.fields[0], keys,
                           [&](std::size_t i, std::string& o) { io::append_prediction_value(o, keys[i], prediction); });
  } else {
    out += '{';
    io::append_json(out, message_key_);
    out += ':';
    io::append_json(out, record.message);
    out += ',';
    io::append_prediction_keys(out, prediction, explain_);
    out += '}';
  }
}

}  // namespace logclf::kafka
