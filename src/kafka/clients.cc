#include "kafka/clients.h"

#include <librdkafka/rdkafka.h>
#include <unistd.h>

#include <algorithm>

namespace logclf::kafka {

std::unique_ptr<RdKafka::Conf> make_conf(const KafkaOptions& options, Role role) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  set(*conf, "bootstrap.servers", options.brokers);
  set(*conf, "client.id", options.client_id);
  const auto kib = [](std::size_t bytes) { return std::to_string(std::max<std::size_t>(bytes >> 10, 1)); };
  if (role == Role::consumer) {
    set(*conf, "group.id", options.group);
    // Offsets are stored by the worker, only for records whose outputs are acknowledged, and committed by
    // librdkafka (at-least-once); or committed in transactions (exactly-once).
    set(*conf, "enable.auto.commit", options.exactly_once ? "false" : "true");
    set(*conf, "auto.commit.interval.ms",
        std::to_string(options.commit_interval.count() > 0 ? options.commit_interval.count() : 1000));
    set(*conf, "enable.auto.offset.store", "false");
    // A new group starts at the oldest record kept: a worker started after its producers loses nothing.
    set(*conf, "auto.offset.reset", "earliest");
    // A worker joining or leaving moves only the partitions it must, and the others keep working.
    set(*conf, "partition.assignment.strategy", "cooperative-sticky");
    // Input written in transactions (e.g. by another logclf worker) is read once committed.
    set(*conf, "isolation.level", "read_committed");
    set(*conf, "queued.max.messages.kbytes", kib(options.fetch_queue_bytes));
    // The byte bound above is the one that matters. With the default 100,000 records per partition the
    // fetcher stops and starts, and one worker classified 135k records/s instead of 190-220k (the same
    // run, scripts/bench-kafka.sh); larger fetches per partition help too.
    set(*conf, "queued.min.messages", "10000000");
    set(*conf, "max.partition.fetch.bytes",
        std::to_string(std::clamp<std::size_t>(options.fetch_queue_bytes / 8, 1 << 20, 4 << 20)));
    set(*conf, "fetch.max.bytes", std::to_string(std::clamp<std::size_t>(options.fetch_queue_bytes / 2, 1 << 20, 1 << 30)));
  } else {
    set(*conf, "enable.idempotence", "true");  // retries neither duplicate nor reorder outputs
    set(*conf, "acks", "all");
    set(*conf, "queue.buffering.max.kbytes", kib(options.in_flight_bytes));
    set(*conf, "queue.buffering.max.messages", "2000000");  // the byte bound above is the one that matters
    set(*conf, "linger.ms", "5");
    // With KafkaPartitioning::key: the partition Java producers choose for a key.
    set(*conf, "partitioner", "murmur2_random");
    if (options.exactly_once) {
      // One id per process: KIP-447 fences a zombie worker by the group's generation, not by the id. A
      // crashed worker's open transaction is aborted by the broker after this timeout; until then readers
      // with read_committed wait at it, so it is short.
      char host[256] = "host";
      ::gethostname(host, sizeof host - 1);
      set(*conf, "transactional.id",
          options.group + "-" + options.client_id + "-" + host + "-" + std::to_string(::getpid()));
      set(*conf, "transaction.timeout.ms", "10000");
    }
  }
  const std::string mine = role == Role::consumer ? "consumer." : "producer.";
  const std::string theirs = role == Role::consumer ? "producer." : "consumer.";
  for (const auto& [name, value] : options.properties) {
    if (name.starts_with(theirs)) continue;
    set(*conf, name.starts_with(mine) ? name.substr(mine.size()) : name, value);
  }
  return conf;
}

int partition_count(RdKafka::Handle& client, const std::string& topic, int timeout_ms) {
  std::string problem;
  std::unique_ptr<RdKafka::Topic> handle(RdKafka::Topic::create(&client, topic, nullptr, problem));
  if (!handle) throw Error("topic '" + topic + "': " + problem);
  RdKafka::Metadata* raw = nullptr;
  const RdKafka::ErrorCode err = client.metadata(false, handle.get(), &raw, timeout_ms);
  std::unique_ptr<RdKafka::Metadata> metadata(raw);
  if (err != RdKafka::ERR_NO_ERROR)
    throw Error("cannot read the metadata of topic '" + topic + "': " + RdKafka::err2str(err));
  for (const RdKafka::TopicMetadata* t : *metadata->topics()) {
    if (t->topic() != topic) continue;
    if (t->err() == RdKafka::ERR_UNKNOWN_TOPIC_OR_PART) return 0;
    if (t->err() != RdKafka::ERR_NO_ERROR)
      throw Error("topic '" + topic + "': " + RdKafka::err2str(t->err()));
    return static_cast<int>(t->partitions()->size());
  }
  return 0;
}

void create_topic(RdKafka::Handle& client, const std::string& topic, int partitions, int timeout_ms) {
  // The admin API is only in librdkafka's C interface.
  rd_kafka_t* rk = client.c_ptr();
  char problem[512] = "";
  rd_kafka_NewTopic_t* request = rd_kafka_NewTopic_new(topic.c_str(), partitions, -1, problem, sizeof problem);
  if (request == nullptr) throw Error("cannot create topic '" + topic + "': " + problem);
  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk);
  rd_kafka_AdminOptions_t* admin = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_operation_timeout(admin, timeout_ms, problem, sizeof problem);
  rd_kafka_CreateTopics(rk, &request, 1, admin, queue);
  rd_kafka_event_t* event = rd_kafka_queue_poll(queue, timeout_ms + 1000);
  std::string failure;
  if (event == nullptr) {
    failure = "no answer from the cluster";
  } else if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    failure = rd_kafka_event_error_string(event);
  } else {
    std::size_t n = 0;
    const rd_kafka_topic_result_t** results =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &n);
    for (std::size_t i = 0; i < n; ++i) {
      const rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
        failure = rd_kafka_topic_result_error_string(results[i]);
    }
  }
  if (event != nullptr) rd_kafka_event_destroy(event);
  rd_kafka_AdminOptions_destroy(admin);
  rd_kafka_queue_destroy(queue);
  rd_kafka_NewTopic_destroy(request);
  if (!failure.empty()) throw Error("cannot create topic '" + topic + "': " + failure);
}

std::string describe(const RdKafka::Error& error) {
  return error.name() + ": " + error.str();
}

}  // namespace logclf::kafka
