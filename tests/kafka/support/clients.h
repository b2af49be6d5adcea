// Kafka clients for the tests (librdkafka): produce a test's input, read a worker's output.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace RdKafka {
class KafkaConsumer;
}

namespace logclf::testing {

// Written with designated initializers naming what they set: every member has a default initializer.
struct KafkaRecord {
  std::int32_t partition = -1;  // producing: -1 lets the partitioner choose by key
  std::optional<std::string> key = {};
  std::string value = {};
  std::vector<std::pair<std::string, std::string>> headers = {};
  std::string topic = {};    // set when consumed
  std::int64_t offset = -1;  // set when consumed

  // The value of the first header named `name`, or nullopt.
  std::optional<std::string> header(const std::string& name) const;
};

// Produces `records` in order (per partition, order and no duplicates hold even through retries: the
// producer is idempotent) and waits until the broker has acknowledged each. Throws on any delivery error.
void produce(const std::string& bootstrap, const std::string& topic, const std::vector<KafkaRecord>& records);

// The number of partitions of `topic`, or 0 when the broker does not know it.
int partition_count(const std::string& bootstrap, const std::string& topic);

// Reads every partition of a topic from its beginning, outside any consumer group (nothing is committed).
// With `read_committed`, records of open or aborted transactions are not returned.
class TopicReader {
 public:
  TopicReader(const std::string& bootstrap, const std::string& topic, bool read_committed);
  ~TopicReader();
  TopicReader(const TopicReader&) = delete;
  TopicReader& operator=(const TopicReader&) = delete;

  // Reads on until `done` returns true for a record just read, or nothing new arrived for `idle_timeout`
  // (the writer stopped or is stuck). Returns whether `done` was reached.
  bool read_until(const std::function<bool(const KafkaRecord&)>& done, std::chrono::milliseconds idle_timeout);
  // Reads on until every partition's end has been reached (with read_committed its last stable offset).
  // Only for a topic no one writes to any more: the end is each partition's end as first reached.
  bool read_to_end(std::chrono::milliseconds timeout);

  const std::vector<KafkaRecord>& records() const { return records_; }

 private:
  // Waits up to `timeout` for one record (appended, true) or an end of partition (noted, false).
  bool poll(std::chrono::milliseconds timeout);

  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::vector<bool> at_end_;  // per partition: end reached and nothing read from it since
  std::vector<KafkaRecord> records_;
};

// `expected_count` records of `topic`, or fewer when nothing new arrived for `idle_timeout`.
std::vector<KafkaRecord> consume(const std::string& bootstrap, const std::string& topic,
                                 std::size_t expected_count, std::chrono::milliseconds idle_timeout,
                                 bool read_committed = false);

// Every record `topic` holds now. For a topic no one writes to any more. Throws if the end is not reached
// within a minute.
std::vector<KafkaRecord> read_all(const std::string& bootstrap, const std::string& topic,
                                  bool read_committed = false);

}  // namespace logclf::testing
