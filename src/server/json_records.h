// Records in JSON bodies (NDJSON lines, the elements of a JSON array, the "logs" of /v1/classify), read as
// the CLI's JSON lines reader reads them (io::JsonRecordParser: the message under the first of
// log_message, message, log and msg, or the one key asked for; the source under "source") and answered as
// its writer writes them: the record's own text, every other field kept where it stands, with
// predicted_label (and with explain stage, rule, confidence) set. A bad record is answered in its place
// with predicted_label null and an "error" naming it, so one bad record never fails the others.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "io/json_record.h"
#include "logclf/io.h"
#include "logclf/types.h"

namespace logclf::server {

class JsonRecords {
 public:
  // Classifies lines; the distribution (Prediction::probabilities) is needed when `with_distribution`.
  using Classify = std::function<std::vector<Prediction>(std::span<const LogLine> lines, bool with_distribution)>;

  // `message_key`: the one key holding the message, or empty for log_message, message, log, msg.
  JsonRecords(std::string_view message_key, bool explain, Classify classify);
  ~JsonRecords();

  // Reads one record's text; a bad one is kept with its error, which begins with `where` ("line 3").
  void add(std::string_view text, std::string_view where);
  // A record that could not be read at all (a line over the limit): answered as {"raw": "", ...}.
  void add_error(std::string error);

  std::size_t size() const { return count_; }
  std::size_t errors() const { return errors_; }
  const std::string& first_error() const { return first_error_; }

  // Classifies the good records and passes each record's answer (one JSON value, no line break), in order,
  // to `emit`; then forgets the records. With `distribution_labels`, a classified record's answer also has
  // "distribution": {label: probability} when the head was consulted.
  void answer(const std::function<void(std::string_view)>& emit,
              const std::vector<std::string>* distribution_labels = nullptr);

 private:
  Record& next();

  ReadOptions read_;
  Classify classify_;
  io::JsonRecordParser parser_;
  std::unique_ptr<RecordReader> shape_;
  std::unique_ptr<RecordWriter> writer_;
  std::vector<Record> records_;  // [0, count_) in use; kept to reuse their strings
  std::size_t count_ = 0;
  std::size_t errors_ = 0;
  std::string first_error_;
};

}  // namespace logclf::server
