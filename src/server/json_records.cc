#include "server/json_records.h"

#include <charconv>
#include <cmath>

#include "io/json_text.h"
#include "io/reader_util.h"

namespace logclf::server {

namespace {
// The shortest text that reads back as the same float: small probabilities keep their digits.
void append_probability(std::string& out, double value) {
  if (!std::isfinite(value)) {
    out += "null";
    return;
  }
  char buffer[32];
  out.append(buffer, std::to_chars(buffer, buffer + sizeof buffer, static_cast<float>(value)).ptr);
}

ReadOptions read_options(std::string_view message_key) {
  ReadOptions read;
  read.format = Format::jsonl;
  read.message_fields = message_key.empty() ? default_message_fields(Format::jsonl)
                                            : std::vector<std::string>{std::string(message_key)};
  return read;
}
}  // namespace

JsonRecords::JsonRecords(std::string_view message_key, bool explain, Classify classify)
    : read_(read_options(message_key)), classify_(std::move(classify)), parser_(read_) {
  shape_ = RecordReader::from_string({}, "body", read_);
  WriteOptions write;
  write.format = Format::jsonl;
  write.explain = explain;
  writer_ = RecordWriter::to_string(*shape_, write);
}

JsonRecords::~JsonRecords() = default;

Record& JsonRecords::next() {
  if (count_ == records_.size()) records_.emplace_back();
  Record& r = records_[count_++];
  r.message.clear();
  r.source.clear();
  r.label.clear();
  r.raw.clear();
  r.error.clear();
  r.fields.resize(1);
  return r;
}

void JsonRecords::add(std::string_view text, std::string_view where) {
  Record& r = next();
  std::string& object = r.fields[0];
  object.assign(text);
  io::repair_utf8(object, false, "the record");  // the parser needs valid UTF-8; the text is passed on
  bool is_object = false;
  std::string problem = parser_.parse(object, r, is_object);
  if (problem.empty()) return;
  r.error.assign(where).append(": ").append(problem);
  io::repair_utf8(r.error, false, "the error");  // the parser's message may quote part of a character
  r.message.clear();
  r.source.clear();
  r.raw = object;
  if (!is_object) r.fields.clear();
  if (errors_++ == 0) first_error_ = r.error;
}

void JsonRecords::add_error(std::string error) {
  Record& r = next();
  r.fields.clear();
  r.error = std::move(error);
  if (errors_++ == 0) first_error_ = r.error;
}

void JsonRecords::answer(const std::function<void(std::string_view)>& emit,
                         const std::vector<std::string>* distribution_labels) {
  std::vector<LogLine> lines;
  for (std::size_t i = 0; i < count_; ++i)
    if (records_[i].error.empty()) lines.push_back({records_[i].message, records_[i].source});
  const std::vector<Prediction> predictions =
      lines.empty() ? std::vector<Prediction>() : classify_(lines, distribution_labels != nullptr);
  const Prediction none;
  std::string text;
  std::size_t k = 0;
  for (std::size_t i = 0; i < count_; ++i) {
    const Record& r = records_[i];
    const Prediction& p = r.error.empty() ? predictions[k++] : none;
    text.clear();
    writer_->format(r, p, text);
    if (!text.empty() && text.back() == '\n') text.pop_back();
    if (distribution_labels != nullptr && !p.probabilities.empty() && text.ends_with('}')) {
      // The head's distribution, when it was consulted (not for lines a rule decided).
      text.pop_back();
      text += ",\"distribution\":{";
      for (std::size_t c = 0; c < p.probabilities.size() && c < distribution_labels->size(); ++c) {
        if (c > 0) text += ',';
        io::append_json(text, (*distribution_labels)[c]);
        text += ':';
        append_probability(text, p.probabilities[c]);
      }
      text += "}}";
    }
    emit(text);
  }
  count_ = 0;
}

}  // namespace logclf::server
