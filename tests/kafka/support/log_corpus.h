// Realistic input for the workers: the log lines of ../shared/data/synthetic_logs.csv as JSON objects, and
// the labels `logclf classify` gives them, which a worker's output must match.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "kafka/support/clients.h"

namespace logclf::testing {

class LogCorpus {
 public:
  // The CSV's rows, read once. Throws when the file is missing or unreadable.
  static const LogCorpus& instance();

  // Records 0..count-1. Record `seq` is {"timestamp", "source", "log_message", "seq": seq} of row
  // seq % rows, with key "k<seq % 1000>" and partition (seq % 1000) % partitions: each key stays on one
  // partition, as a keyed producer would have it, and the seqs of one partition increase with its offsets.
  std::vector<KafkaRecord> records(std::size_t count, int partitions) const;
  std::size_t rows() const { return rows_.size(); }

 private:
  struct Row {
    std::string timestamp, source, message;
  };
  LogCorpus();
  std::vector<Row> rows_;
};

// The label `logclf classify --format jsonl` gives each value (a JSON object with a message), in order.
// Throws when the command fails.
std::vector<std::string> reference_labels(const std::vector<KafkaRecord>& records);

}  // namespace logclf::testing
