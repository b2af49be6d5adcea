// A classifier worker on Kafka: consumes log records from input topics in a consumer group, classifies
// them, and produces each record with its label to an output topic. Run one per machine (or several): the
// group spreads the input partitions over the workers, and Kafka moves them when a worker joins or leaves.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "logclf/cache.h"
#include "logclf/classifier.h"

namespace logclf {

// What a record's value is: a JSON object, plain text, or either (a value whose first non-blank byte is
// '{' is taken for JSON).
enum class KafkaInputFormat { automatic, json, text };

// Which partition of the output topic a record goes to.
enum class KafkaPartitioning {
  input,  // the input record's partition number, modulo the output's partition count: input order is kept
  key,    // by key, as Java producers do (murmur2; records without a key spread at random)
};

struct KafkaOptions {
  std::string brokers;                    // bootstrap servers, HOST:PORT[,...]
  std::vector<std::string> input_topics;  // consumed as one group
  std::string output_topic;
  std::string group;
  // Records that cannot be read (not JSON, no message field, no value) go here with the problem in the
  // header `logclf.error`. Empty: such a record stops the worker with an Error naming its offset.
  std::string dead_letter_topic;
  // Each label to its own topic, "<output_topic>.<slug>" (slug: "Security Alert" -> "security-alert"),
  // created with the output topic's partition count when missing.
  bool route = false;
  bool explain = false;       // add "stage", "rule" and "confidence" to each output record
  // Kafka transactions: outputs and input offsets are committed together, so readers with
  // isolation.level=read_committed see each input's output exactly once, whatever crashes. Otherwise
  // at-least-once: an input offset is committed after the outputs of it and of every record before it are
  // acknowledged by all in-sync replicas.
  bool exactly_once = false;
  KafkaInputFormat input_format = KafkaInputFormat::automatic;
  KafkaPartitioning partitioning = KafkaPartitioning::input;
  std::vector<std::string> message_keys = {"log_message", "message", "log", "msg"};  // the first present
  std::string source_key = "source";
  bool strict_utf8 = false;  // invalid UTF-8 is a bad record instead of being replaced by U+FFFD
  std::size_t batch_records = 1024;              // classified together
  std::size_t max_record_bytes = std::size_t{1} << 20;  // a longer value is a bad record
  // Memory bounds: the records fetched ahead, and the outputs produced but not yet acknowledged. Past the
  // latter the worker waits for the broker (backpressure) instead of buffering more.
  std::size_t fetch_queue_bytes = std::size_t{32} << 20;
  std::size_t in_flight_bytes = std::size_t{64} << 20;
  // How often offsets are committed (at-least-once) or a transaction is committed (exactly-once); zero
  // picks 1 s and 100 ms.
  std::chrono::milliseconds commit_interval{0};
  std::string client_id = "logclf";
  // librdkafka properties (security.protocol, sasl.*, ssl.*, ...) for both clients; a "consumer." or
  // "producer." prefix sets one client's only. Applied last: they override the worker's own settings.
  std::vector<std::pair<std::string, std::string>> properties;
  // Diagnostics (the group joined, partitions assigned and revoked, a broker lost); empty: standard error.
  std::function<void(const std::string&)> log;
};

// A snapshot of the worker's counters.
struct KafkaMetrics {
  std::uint64_t records_in = 0;      // records consumed and handled
  std::uint64_t records_out = 0;     // outputs acknowledged by the broker (dead letters included)
  std::uint64_t dead_letters = 0;    // bad records sent to the dead-letter topic
  std::uint64_t errors = 0;          // client errors seen (broker down, failed commits, ...)
  std::uint64_t batches = 0;
  std::uint64_t commits = 0;         // offset commits, or committed transactions
  std::uint64_t rebalances = 0;
  double batch_seconds_sum = 0;      // time from a batch's first record consumed to its outputs produced
  double batch_seconds_max = 0;
  std::uint64_t in_flight_bytes = 0;  // produced, not yet acknowledged
  std::map<std::string, std::int64_t> lag;  // "topic/partition" -> records behind the partition's end
  std::map<std::string, std::uint64_t> per_label;
  CacheStats cache;
};

// Prometheus text exposition of `m` (names logclf_kafka_*).
std::string to_prometheus(const KafkaMetrics& m);

class KafkaWorker {
 public:
  // Connects and checks the topics (the output and dead-letter topics must exist). Throws Error.
  KafkaWorker(Classifier classifier, KafkaOptions options, CacheOptions cache = {});
  ~KafkaWorker();
  KafkaWorker(const KafkaWorker&) = delete;
  KafkaWorker& operator=(const KafkaWorker&) = delete;

  // Consumes, classifies and produces until `stop` becomes true (it may be set from a signal handler),
  // then drains: what was consumed is classified and produced, the outputs are acknowledged, the offsets
  // committed, and the group is left. Throws Error on what it cannot go on from (a bad record without a
  // dead-letter topic, a failed delivery, a fenced producer); nothing is committed past a record whose
  // output was not acknowledged.
  void run(const std::atomic<bool>& stop);

  // Safe from any thread while run() runs.
  KafkaMetrics metrics() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// "Security Alert" -> "security-alert": lower case, each run of other characters than ASCII letters and
// digits one '-', none at either end.
std::string kafka_topic_slug(std::string_view label);

}  // namespace logclf
