// A Kafka record's value to a Record, and a Record with its prediction to the output record's value.
#pragma once

#include <string>
#include <string_view>

#include "io/json_record.h"
#include "logclf/kafka.h"
#include "logclf/types.h"

namespace logclf::kafka {

class RecordCodec {
 public:
  explicit RecordCodec(const KafkaOptions& options);

  // Fills out.message and out.source (and out.fields: {the object's text} for JSON) from a value; `value`
  // null means the record has none (a tombstone). Returns the problem with it, or "" for a good record.
  std::string decode(const char* value, std::size_t size, Record& out);

  // The output value: the input object with the prediction's keys added before its closing brace, or for
  // plain text {"log_message": TEXT, "source": ..., "predicted_label": ...}.
  void encode(const Record& record, const Prediction& prediction, std::string& out) const;

 private:
  KafkaInputFormat format_;
  bool strict_utf8_;
  bool explain_;
  std::size_t max_bytes_;
  std::string message_key_;  // for plain text outputs
  io::JsonRecordParser json_;
};

}  // namespace logclf::kafka
