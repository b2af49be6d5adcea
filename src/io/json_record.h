// One JSON object's text to a Record's message, source and label: the parser of the JSON lines reader,
// also used for records that come one by one (a Kafka record's value).
#pragma once

#include <memory>
#include <string>

#include "logclf/io.h"

namespace logclf::io {

class JsonRecordParser {
 public:
  // Uses options.message_fields, source_field, label_field and require_label. `fast_path` false parses
  // with nlohmann's parser only, for tests and fuzzers that check the fast path against it.
  explicit JsonRecordParser(const ReadOptions& options, bool fast_path = true);
  ~JsonRecordParser();
  JsonRecordParser(const JsonRecordParser&) = delete;
  JsonRecordParser& operator=(const JsonRecordParser&) = delete;

  // Fills out.message, out.source and out.label from `text` (valid UTF-8, no NUL byte needed). Returns
  // what is wrong with it ("invalid JSON: ...", "field 'log_message' missing", ...), or "" when it is a
  // good record; `object` tells whether `text` is a JSON object at all.
  std::string parse(const std::string& text, Record& out, bool& object);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace logclf::io
