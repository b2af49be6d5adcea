#include "kafka/support/clients.h"

#include <librdkafka/rdkafkacpp.h>

#include <algorithm>
#include <stdexcept>
#include <thread>

namespace logclf::testing {
namespace {

using namespace std::chrono_literals;

std::unique_ptr<RdKafka::Conf> client_conf(const std::string& bootstrap,
                                           const std::vector<std::pair<std::string, std::string>>& settings) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string error;
  if (conf->set("bootstrap.servers", bootstrap, error) != RdKafka::Conf::CONF_OK)
    throw std::runtime_error(error);
  for (const auto& [name, value] : settings)
    if (conf->set(name, value, error) != RdKafka::Conf::CONF_OK) throw std::runtime_error(name + ": " + error);
  return conf;
}

struct DeliveryReport : RdKafka::DeliveryReportCb {
  void dr_cb(RdKafka::Message& message) override {
    if (message.err() == RdKafka::ERR_NO_ERROR) return;
    if (failed++ == 0) first_error = message.errstr();
  }
  std::size_t failed = 0;
  std::string first_error;
};

}  // namespace

std::optional<std::string> KafkaRecord::header(const std::string& name) const {
  for (const auto& [key, value] : headers)
    if (key == name) return value;
  return std::nullopt;
}

void produce(const std::string& bootstrap, const std::string& topic, const std::vector<KafkaRecord>& records) {
  DeliveryReport report;
  auto conf = client_conf(bootstrap, {{"enable.idempotence", "true"},
                                      {"linger.ms", "10"},
                                      {"queue.buffering.max.messages", "1000000"}});
  std::string error;
  conf->set("dr_cb", &report, error);
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), error));
  if (!producer) throw std::runtime_error("creating a producer: " + error);
  for (const auto& record : records) {
    for (;;) {
      RdKafka::Headers* headers = nullptr;
      if (!record.headers.empty()) {
        headers = RdKafka::Headers::create();
        for (const auto& [name, value] : record.headers) headers->add(name, value);
      }
      const auto err = producer->produce(topic, record.partition, RdKafka::Producer::RK_MSG_COPY,
                                         const_cast<char*>(record.value.data()), record.value.size(),
                                         record.key ? record.key->data() : nullptr, record.key ? record.key->size() : 0,
                                         0, headers, nullptr);
      if (err == RdKafka::ERR_NO_ERROR) break;
      delete headers;  // librdkafka owns them only once produce() succeeded
      if (err != RdKafka::ERR__QUEUE_FULL)
        throw std::runtime_error("producing to " + topic + ": " + RdKafka::err2str(err));
      producer->poll(100);  // serves delivery reports, which frees room in the queue
    }
    producer->poll(0);
  }
  if (producer->flush(120000) != RdKafka::ERR_NO_ERROR)
    throw std::runtime_error("producing to " + topic + ": records still unacknowledged after 120 s");
  if (report.failed > 0)
    throw std::runtime_error("producing to " + topic + ": " + std::to_string(report.failed) +
                             " records failed, the first with: " + report.first_error);
}

int partition_count(const std::string& bootstrap, const std::string& topic) {
  auto conf = client_conf(bootstrap, {});
  std::string error;
  std::unique_ptr<RdKafka::Producer> client(RdKafka::Producer::create(conf.get(), error));
  if (!client) throw std::runtime_error("creating a client: " + error);
  RdKafka::Metadata* raw = nullptr;
  if (client->metadata(true, nullptr, &raw, 5000) != RdKafka::ERR_NO_ERROR) return 0;
  const std::unique_ptr<RdKafka::Metadata> metadata(raw);
  for (const auto* t : *metadata->topics()) {
    if (t->topic() != topic || t->err() != RdKafka::ERR_NO_ERROR) continue;
    // A partition without a leader yet cannot be written: not known for our purposes.
    for (const auto* p : *t->partitions())
      if (p->err() != RdKafka::ERR_NO_ERROR || p->leader() < 0) return 0;
    return static_cast<int>(t->partitions()->size());
  }
  return 0;
}

TopicReader::TopicReader(const std::string& bootstrap, const std::string& topic, bool read_committed) {
  const int partitions = partition_count(bootstrap, topic);
  if (partitions == 0) throw std::runtime_error("topic " + topic + " does not exist");
  // KafkaConsumer requires a group id, but with assign() instead of subscribe() it never joins the group.
  auto conf = client_conf(bootstrap, {{"group.id", "logclf-test-reader"},
                                      {"enable.auto.commit", "false"},
                                      {"enable.partition.eof", "true"},
                                      // An empty partition answers a fetch only after this wait: short, so
                                      // that reading to the end of a topic does not linger.
                                      {"fetch.wait.max.ms", "50"},
                                      {"isolation.level", read_committed ? "read_committed" : "read_uncommitted"}});
  std::string error;
  consumer_.reset(RdKafka::KafkaConsumer::create(conf.get(), error));
  if (!consumer_) throw std::runtime_error("creating a consumer: " + error);
  std::vector<RdKafka::TopicPartition*> assignment;
  for (int p = 0; p < partitions; ++p)
    assignment.push_back(RdKafka::TopicPartition::create(topic, p, RdKafka::Topic::OFFSET_BEGINNING));
  const auto err = consumer_->assign(assignment);
  RdKafka::TopicPartition::destroy(assignment);
  if (err != RdKafka::ERR_NO_ERROR) throw std::runtime_error("assigning " + topic + ": " + RdKafka::err2str(err));
  at_end_.assign(static_cast<std::size_t>(partitions), false);
}

TopicReader::~TopicReader() { consumer_->close(); }

bool TopicReader::poll(std::chrono::milliseconds timeout) {
  const std::unique_ptr<RdKafka::Message> message(consumer_->consume(static_cast<int>(timeout.count())));
  switch (message->err()) {
    case RdKafka::ERR_NO_ERROR: {
      KafkaRecord record;
      record.partition = message->partition();
      record.offset = message->offset();
      record.topic = message->topic_name();
      if (message->key() != nullptr) record.key = *message->key();
      if (message->payload() != nullptr) record.value.assign(static_cast<const char*>(message->payload()), message->len());
      if (const RdKafka::Headers* headers = message->headers())
        for (const auto& h : headers->get_all())
          record.headers.emplace_back(h.key(), h.value() != nullptr ? std::string(h.value_string(), h.value_size()) : "");
      at_end_.at(static_cast<std::size_t>(record.partition)) = false;
      records_.push_back(std::move(record));
      return true;
    }
    case RdKafka::ERR__PARTITION_EOF:
      at_end_.at(static_cast<std::size_t>(message->partition())) = true;
      return false;
    case RdKafka::ERR__FATAL:
      throw std::runtime_error("consumer: " + message->errstr());
    default:
      // Timeouts, and connection errors while a test restarts the broker: the consumer reconnects itself.
      return false;
  }
}

bool TopicReader::read_until(const std::function<bool(const KafkaRecord&)>& done,
                             std::chrono::milliseconds idle_timeout) {
  auto idle_deadline = std::chrono::steady_clock::now() + idle_timeout;
  while (std::chrono::steady_clock::now() < idle_deadline) {
    if (!poll(100ms)) continue;
    if (done(records_.back())) return true;
    idle_deadline = std::chrono::steady_clock::now() + idle_timeout;
  }
  return false;
}

bool TopicReader::read_to_end(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!std::all_of(at_end_.begin(), at_end_.end(), [](bool end) { return end; })) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    poll(100ms);
  }
  return true;
}

std::vector<KafkaRecord> consume(const std::string& bootstrap, const std::string& topic,
                                 std::size_t expected_count, std::chrono::milliseconds idle_timeout,
                                 bool read_committed) {
  TopicReader reader(bootstrap, topic, read_committed);
  reader.read_until([&](const KafkaRecord&) { return reader.records().size() >= expected_count; }, idle_timeout);
  return reader.records();
}

std::vector<KafkaRecord> read_all(const std::string& bootstrap, const std::string& topic, bool read_committed) {
  TopicReader reader(bootstrap, topic, read_committed);
  if (!reader.read_to_end(60s))
    throw std::runtime_error("reading " + topic + ": the end of every partition not reached within 60 s");
  return reader.records();
}

}  // namespace logclf::testing
