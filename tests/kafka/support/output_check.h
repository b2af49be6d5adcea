// Checks a worker's output against its input. Each input value is a JSON object with a "seq" (its index in
// the test's input); the output value is that object with "predicted_label" added.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "kafka/support/clients.h"

namespace logclf::testing {

struct OutputCheck {
  std::size_t outputs = 0;
  std::size_t missing = 0;       // inputs with no output
  std::size_t duplicates = 0;    // outputs of an input beyond its first
  std::size_t out_of_order = 0;  // first outputs whose seq is below an earlier one in the same topic partition
  std::size_t mislabeled = 0;    // predicted_label other than the reference label
  std::size_t mismatched = 0;    // no JSON object, no or an unknown seq, or another message, key or partition
  std::vector<std::string> examples;  // the first few problems of each kind, for failure messages

  std::string summary() const;
};

// `labels[seq]` is the label expected for input `seq`; the output partition of an input is its partition
// modulo `output_partitions`. Order is checked per topic and partition of `outputs`.
OutputCheck check_output(const std::vector<KafkaRecord>& outputs, const std::vector<KafkaRecord>& inputs,
                         const std::vector<std::string>& labels, int output_partitions);

// The "seq" of an output value, or nullopt when it has none.
std::optional<std::size_t> seq_of(const std::string& value);

// Reads on until an output of every seq below `count` has been read (also counting records read before),
// or nothing new arrived for `idle_timeout`. Returns whether all were read.
bool read_until_every_seq(TopicReader& reader, std::size_t count, std::chrono::milliseconds idle_timeout);

}  // namespace logclf::testing
