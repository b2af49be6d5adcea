#include <librdkafka/rdkafkacpp.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <set>

#include "kafka/clients.h"
#include "kafka/offsets.h"
#include "kafka/record_codec.h"
#include "logclf/kafka.h"

namespace logclf {

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kClusterTimeoutMs = 30000;  // a call to the cluster at start, on a commit, on leaving
constexpr std::size_t kBatchBytes = std::size_t{4} << 20;

// A test hook, read from LOGCLF_KAFKA_CRASH: "before-produce:N" or "after-produce:N" kills the process
// with SIGKILL at that point of the first batch that takes the records consumed to N or more. After
// produce means the outputs are acknowledged and the input offsets not yet committed.
struct CrashPoint {
  enum class At { nowhere, before_produce, after_produce } at = At::nowhere;
  std::uint64_t records = 0;
};

CrashPoint crash_point() {
  const char* value = std::getenv("LOGCLF_KAFKA_CRASH");
  if (value == nullptr || *value == '\0') return {};
  const std::string_view text(value);
  const auto colon = text.find(':');
  CrashPoint point;
  const std::string_view where = text.substr(0, colon);
  if (where == "before-produce") {
    point.at = CrashPoint::At::before_produce;
  } else if (where == "after-produce") {
    point.at = CrashPoint::At::after_produce;
  } else {
    throw Error("LOGCLF_KAFKA_CRASH: '" + std::string(text) + "' is not before-produce:N or after-produce:N");
  }
  if (colon != text.npos) point.records = std::strtoull(value + colon + 1, nullptr, 10);
  return point;
}

std::string where(const RdKafka::Message& m) {
  return m.topic_name() + "/" + std::to_string(m.partition()) + "@" + std::to_string(m.offset());
}

}  // namespace

std::string kafka_topic_slug(std::string_view label) {
  std::string out;
  bool gap = false;
  for (const char c : label) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum) {
      gap = !out.empty();
      continue;
    }
    if (gap) out += '-';
    gap = false;
    out += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  }
  return out;
}

struct KafkaWorker::Impl final : RdKafka::RebalanceCb, RdKafka::DeliveryReportCb, RdKafka::EventCb,
                                 RdKafka::OffsetCommitCb {
  Impl(Classifier c, KafkaOptions o, CacheOptions cache_options)
      : classifier(std::move(c)), options(std::move(o)), cache(cache_options), codec(options), crash(crash_point()) {
    if (options.brokers.empty()) throw Error("no brokers given");
    if (options.input_topics.empty()) throw Error("no input topic given");
    if (options.group.empty()) throw Error("no consumer group given");
    if (options.output_topic.empty()) throw Error("no output topic given");
    if (options.commit_interval.count() <= 0)
      options.commit_interval = std::chrono::milliseconds(options.exactly_once ? 100 : 1000);
    connect();
    check_topics();
  }

  ~Impl() override {
    for (RdKafka::Message* m : batch) delete m;
  }

  void connect() {
    std::string problem;
    auto producer_conf = kafka::make_conf(options, kafka::Role::producer);
    kafka::set(*producer_conf, "dr_cb", static_cast<RdKafka::DeliveryReportCb*>(this));
    kafka::set(*producer_conf, "event_cb", static_cast<RdKafka::EventCb*>(this));
    producer.reset(RdKafka::Producer::create(producer_conf.get(), problem));
    if (!producer) throw Error("cannot create the Kafka producer: " + problem);
    auto consumer_conf = kafka::make_conf(options, kafka::Role::consumer);
    kafka::set(*consumer_conf, "rebalance_cb", static_cast<RdKafka::RebalanceCb*>(this));
    kafka::set(*consumer_conf, "event_cb", static_cast<RdKafka::EventCb*>(this));
    kafka::set(*consumer_conf, "offset_commit_cb", static_cast<RdKafka::OffsetCommitCb*>(this));
    consumer.reset(RdKafka::KafkaConsumer::create(consumer_conf.get(), problem));
    if (!consumer) throw Error("cannot create the Kafka consumer: " + problem);
    if (options.exactly_once) {
      std::unique_ptr<RdKafka::Error> error(producer->init_transactions(kClusterTimeoutMs));
      if (error) throw Error("cannot start Kafka transactions: " + kafka::describe(*error));
    }
  }

  // Every topic the worker reads or writes, with its partition count; missing routing and dead-letter
  // topics are created.
  void check_topics() {
    int input_partitions = 0;
    for (const std::string& topic : options.input_topics) {
      const int n = kafka::partition_count(*producer, topic, kClusterTimeoutMs);
      if (n == 0) throw Error("the input topic '" + topic + "' does not exist on " + options.brokers);
      input_partitions = std::max(input_partitions, n);
    }
    const int output = kafka::partition_count(*producer, options.output_topic, kClusterTimeoutMs);
    if (!options.route) {
      if (output == 0)
        throw Error("the output topic '" + options.output_topic + "' does not exist on " + options.brokers +
                    " (create it, e.g. with as many partitions as the input)");
      partitions[options.output_topic] = output;
    }
    const int fresh = output > 0 ? output : input_partitions;
    const auto ensure = [&](const std::string& topic) {
      int n = kafka::partition_count(*producer, topic, kClusterTimeoutMs);
      if (n == 0) {
        kafka::create_topic(*producer, topic, fresh, kClusterTimeoutMs);
        say("created topic " + topic + " with " + std::to_string(fresh) + " partitions");
        n = fresh;
      }
      partitions[topic] = n;
    };
    if (!options.dead_letter_topic.empty()) ensure(options.dead_letter_topic);
    if (options.route) {
      std::set<std::string> labels(classifier.labels().begin(), classifier.labels().end());
      for (const Rule& rule : classifier.rules().rules()) labels.insert(rule.label);
      labels.insert(std::string(kUncertainLabel));
      for (const std::string& label : labels) {
        const std::string slug = kafka_topic_slug(label);
        if (slug.empty()) throw Error("the label '" + label + "' gives no topic name to route to");
        const std::string topic = options.output_topic + "." + slug;
        route[label] = topic;
        ensure(topic);
      }
    }
  }

  void say(const std::string& text) const {
    if (options.log) {
      options.log(text);
    } else {
      std::cerr << "logclf kafka: " << text << '\n';
    }
  }

  // --- the loop ---

  void run(const std::atomic<bool>& stop) {
    stopping = &stop;
    if (const RdKafka::ErrorCode err = consumer->subscribe(options.input_topics); err != RdKafka::ERR_NO_ERROR)
      throw Error("cannot subscribe to the input: " + RdKafka::err2str(err));
    say("consuming " + join(options.input_topics) + " in group " + options.group + " (" +
        (options.exactly_once ? "exactly-once" : "at-least-once") + ")");
    auto last_commit = Clock::now(), last_lag = Clock::now();
    try {
      while (!stop.load(std::memory_order_relaxed) && fatal.empty()) {
        fill_batch(stop);
        process_batch();
        producer->poll(0);
        const auto now = Clock::now();
        if (now - last_commit >= options.commit_interval) {
          commit(false);
          last_commit = now;
        }
        if (now - last_lag >= std::chrono::seconds(1)) {
          update_lag();
          last_lag = now;
        }
      }
      process_batch();
    } catch (const Error& e) {
      if (fatal.empty()) fatal = e.what();
    }
    // Drain: what was produced is acknowledged and its offsets committed, then the group is left (which
    // revokes the partitions: rebalance() commits once more, with nothing new).
    try {
      finish(true);
    } catch (const Error& e) {
      if (fatal.empty()) fatal = e.what();
    }
    leave_group();
    producer->flush(kClusterTimeoutMs);
    update_lag();
    if (!fatal.empty()) throw Error(fatal);
    say("stopped: " + std::to_string(records_in.load()) + " records in, " + std::to_string(records_out.load()) +
        " out");
  }

  // librdkafka 2.0's cooperative-sticky assignor aborts when a consumer that never got an assignment is
  // destroyed (librdkafka#4312, fixed in 2.3) and can hang in close() (#4527, fixed in 2.4). So a worker
  // stopped early waits for its first assignment, and every worker unsubscribes and waits for its
  // partitions to be revoked (which commits) before it closes. Records fetched meanwhile are not handled:
  // their offsets are not committed, and the partition's next owner reads them.
  void leave_group() {
    const auto until = Clock::now() + std::chrono::seconds(15);
    while (!assigned_once && Clock::now() < until) delete consumer->consume(100);
    consumer->unsubscribe();
    while (Clock::now() < until) {
      std::vector<RdKafka::TopicPartition*> assigned;
      const bool empty = consumer->assignment(assigned) == RdKafka::ERR_NO_ERROR && assigned.empty();
      RdKafka::TopicPartition::destroy(assigned);
      if (empty) break;
      delete consumer->consume(100);
    }
    consumer->close();
  }

  void fill_batch(const std::atomic<bool>& stop) {
    std::size_t bytes = 0;
    while (batch.size() < options.batch_records && bytes < kBatchBytes && !stop.load(std::memory_order_relaxed)) {
      // Wait for the first record of a batch; after it, take only what has arrived already.
      std::unique_ptr<RdKafka::Message> m(consumer->consume(batch.empty() ? 100 : 0));
      if (!m) return;
      if (m->err() == RdKafka::ERR__TIMED_OUT) return;
      if (m->err() == RdKafka::ERR__PARTITION_EOF) continue;
      if (m->err() != RdKafka::ERR_NO_ERROR) {
        note_error("consumer: " + m->errstr());
        return;
      }
      if (batch.empty()) batch_started = Clock::now();
      bytes += m->len();
      batch.push_back(m.release());
    }
  }

  void process_batch() {
    if (batch.empty()) return;
    const std::size_t n = batch.size();
    records.resize(n);
    problems.resize(n);
    lines.clear();
    for (std::size_t i = 0; i < n; ++i) {
      const RdKafka::Message& m = *batch[i];
      problems[i] = codec.decode(static_cast<const char*>(m.payload()), m.len(), records[i]);
      if (problems[i].empty()) lines.push_back({records[i].message, records[i].source});
    }
    const std::vector<Prediction> predictions = classifier.classify_batch(lines, cache, false);
    if (crash.at == CrashPoint::At::before_produce && records_in + n >= crash.records) ::kill(::getpid(), SIGKILL);
    if (options.exactly_once && !in_transaction) {
      std::unique_ptr<RdKafka::Error> error(producer->begin_transaction());
      if (error) throw Error("cannot begin a Kafka transaction: " + kafka::describe(*error));
      in_transaction = true;
    }
    std::map<std::string, std::uint64_t> labels;
    std::size_t done = 0;
    for (std::size_t i = 0, next = 0; i < n; ++i, ++done) {
      const RdKafka::Message& m = *batch[i];
      if (!problems[i].empty()) {
        if (options.dead_letter_topic.empty()) {
          fatal = where(m) + ": " + problems[i] + " (give --dead-letter TOPIC to set such records aside)";
          break;
        }
        dead_letter(m, problems[i]);
        ++dead_letters;
      } else {
        const Prediction& p = predictions[next++];
        codec.encode(records[i], p, value);
        const std::string& topic = options.route ? route.at(p.label) : options.output_topic;
        produce(topic, m, value, copy_headers(m));
        ++labels[p.label];
      }
      if (options.exactly_once) {
        const std::pair<std::string, std::int32_t> key{m.topic_name(), m.partition()};
        transaction_first.try_emplace(key, m.offset());
        transaction_next[key] = m.offset() + 1;
      }
    }
    records_in += done;
    ++batches;
    const double seconds = std::chrono::duration<double>(Clock::now() - batch_started).count();
    {
      std::lock_guard lock(mutex);
      for (const auto& [label, count] : labels) per_label[label] += count;
      batch_seconds_sum += seconds;
      batch_seconds_max = std::max(batch_seconds_max, seconds);
    }
    for (RdKafka::Message* m : batch) delete m;
    batch.clear();
    if (crash.at == CrashPoint::At::after_produce && records_in >= crash.records) {
      wait_acknowledged(kClusterTimeoutMs);
      ::kill(::getpid(), SIGKILL);
    }
  }

  static RdKafka::Headers* copy_headers(const RdKafka::Message& m) {
    // headers() is not const in librdkafka's interface; it only reads.
    RdKafka::Headers* in = const_cast<RdKafka::Message&>(m).headers();
    if (in == nullptr || in->size() == 0) return nullptr;
    return RdKafka::Headers::create(in->get_all());
  }

  void dead_letter(const RdKafka::Message& m, const std::string& problem) {
    RdKafka::Headers* headers = copy_headers(m);
    if (headers == nullptr) headers = RdKafka::Headers::create();
    const std::string topic = m.topic_name(), partition = std::to_string(m.partition()),
                      offset = std::to_string(m.offset());
    headers->add("logclf.error", problem);
    headers->add("logclf.topic", topic);
    headers->add("logclf.partition", partition);
    headers->add("logclf.offset", offset);
    // The value as it came, bytes unchanged; a record without one stays without one.
    const std::string_view original(static_cast<const char*>(m.payload()), m.payload() ? m.len() : 0);
    produce(options.dead_letter_topic, m, original, headers, m.payload() == nullptr);
  }

  void produce(const std::string& topic, const RdKafka::Message& in, std::string_view value,
               RdKafka::Headers* headers, bool null_value = false) {
    const int count = partitions.at(topic);
    const std::int32_t partition = options.partitioning == KafkaPartitioning::input
                                       ? in.partition() % count
                                       : RdKafka::Topic::PARTITION_UA;
    kafka::OffsetTracker::Slot* slot =
        options.exactly_once ? nullptr : offsets.add(in.topic_name(), in.partition(), in.offset());
    const RdKafka::MessageTimestamp stamp = in.timestamp();
    const std::int64_t timestamp = stamp.type == RdKafka::MessageTimestamp::MSG_TIMESTAMP_NOT_AVAILABLE ? 0 : stamp.timestamp;
    const auto waiting_since = Clock::now();
    for (;;) {
      const RdKafka::ErrorCode err = producer->produce(
          topic, partition, RdKafka::Producer::RK_MSG_COPY, null_value ? nullptr : const_cast<char*>(value.data()),
          null_value ? 0 : value.size(), in.key_pointer(), in.key_len(), timestamp, headers, slot);
      if (err == RdKafka::ERR_NO_ERROR) break;
      if (err != RdKafka::ERR__QUEUE_FULL) {
        delete headers;
        throw Error("cannot produce to " + topic + ": " + RdKafka::err2str(err));
      }
      // Backpressure: the outputs not yet acknowledged fill their bound; wait for the broker.
      producer->poll(50);
      if (stopping->load() && Clock::now() - waiting_since > std::chrono::milliseconds(kClusterTimeoutMs)) {
        delete headers;
        throw Error("stopping, and the broker has not taken the outputs for " +
                    std::to_string(kClusterTimeoutMs / 1000) + " s: their input offsets stay uncommitted");
      }
    }
    in_flight_bytes += value.size();
  }

  // --- acknowledgements and commits ---

  void dr_cb(RdKafka::Message& m) override {
    in_flight_bytes -= m.len();
    auto* slot = static_cast<kafka::OffsetTracker::Slot*>(m.msg_opaque());
    if (m.err() != RdKafka::ERR_NO_ERROR) {
      ++errors;
      // At-least-once cannot commit past a lost output; in a transaction the commit fails and is retried.
      if (!options.exactly_once && fatal.empty()) fatal = "an output to " + m.topic_name() + " failed: " + m.errstr();
      return;
    }
    ++records_out;
    if (slot != nullptr) offsets.ack(slot);
  }

  void offset_commit_cb(RdKafka::ErrorCode err, std::vector<RdKafka::TopicPartition*>& committed) override {
    if (err == RdKafka::ERR_NO_ERROR) ++commits;
    if (err != RdKafka::ERR_NO_ERROR && err != RdKafka::ERR__NO_OFFSET) {
      note_error("offset commit: " + RdKafka::err2str(err));
    }
    for (const RdKafka::TopicPartition* tp : committed)
      if (tp->err() == RdKafka::ERR_NO_ERROR && tp->offset() >= 0)
        offsets.mark_committed(tp->topic(), tp->partition(), tp->offset());
  }

  // Waits until every output produced is acknowledged (or failed); false after `timeout_ms`.
  bool wait_acknowledged(int timeout_ms) {
    const auto until = Clock::now() + std::chrono::milliseconds(timeout_ms);
    while (producer->outq_len() > 0 && Clock::now() < until) producer->flush(100);
    producer->poll(0);
    return producer->outq_len() == 0;
  }

  // At-least-once: commits the offsets whose outputs are acknowledged. Exactly-once: commits the
  // transaction with the offsets of the records it handled; when the broker says it must be aborted, the
  // consumer goes back to the transaction's first records, which are classified again.
  void commit(bool sync) {
    if (!options.exactly_once) {
      auto ready = offsets.committable();
      if (ready.empty()) return;
      std::vector<RdKafka::TopicPartition*> list;
      for (const auto& [p, offset] : ready) list.push_back(RdKafka::TopicPartition::create(p->topic, p->id, offset));
      // Stored for librdkafka's own commits (auto.commit.interval.ms), which it holds back while the
      // group rebalances: a commit of ours in that window would fail with ILLEGAL_GENERATION, and
      // librdkafka 2.0 then drops all the member's partitions (librdkafka#4059, fixed in 2.10).
      if (const RdKafka::ErrorCode err = consumer->offsets_store(list); err != RdKafka::ERR_NO_ERROR)
        note_error("offset store: " + RdKafka::err2str(err));
      for (const auto* tp : list)
        if (tp->err() == RdKafka::ERR_NO_ERROR) offsets.mark_committed(tp->topic(), tp->partition(), tp->offset());
      RdKafka::TopicPartition::destroy(list);
      if (sync) {
        if (const RdKafka::ErrorCode err = consumer->commitSync(); err != RdKafka::ERR_NO_ERROR && err != RdKafka::ERR__NO_OFFSET)
          note_error("offset commit: " + RdKafka::err2str(err));
      }
      return;
    }
    if (!in_transaction) return;
    std::vector<RdKafka::TopicPartition*> list;
    for (const auto& [key, offset] : transaction_next)
      list.push_back(RdKafka::TopicPartition::create(key.first, key.second, offset));
    std::unique_ptr<RdKafka::ConsumerGroupMetadata> group(consumer->groupMetadata());
    std::unique_ptr<RdKafka::Error> error(producer->send_offsets_to_transaction(list, group.get(), kClusterTimeoutMs));
    RdKafka::TopicPartition::destroy(list);
    if (!error) error.reset(producer->commit_transaction(kClusterTimeoutMs));
    // A retriable failure (a timeout, the coordinator moving) may be retried as it is.
    while (error && error->is_retriable() && !error->txn_requires_abort() && !error->is_fatal())
      error.reset(producer->commit_transaction(kClusterTimeoutMs));
    if (!error) {
      ++commits;
    } else if (error->txn_requires_abort()) {
      note_error("transaction aborted: " + kafka::describe(*error));
      std::unique_ptr<RdKafka::Error> abort(producer->abort_transaction(kClusterTimeoutMs));
      if (abort) throw Error("cannot abort a Kafka transaction: " + kafka::describe(*abort));
      rewind();
    } else {
      throw Error("cannot commit a Kafka transaction: " + kafka::describe(*error));
    }
    in_transaction = false;
    transaction_next.clear();
    transaction_first.clear();
  }

  void rewind() {
    for (const auto& [key, offset] : transaction_first) {
      std::unique_ptr<RdKafka::TopicPartition> tp(RdKafka::TopicPartition::create(key.first, key.second, offset));
      if (const RdKafka::ErrorCode err = consumer->seek(*tp, kClusterTimeoutMs); err != RdKafka::ERR_NO_ERROR)
        note_error("cannot go back to " + key.first + "/" + std::to_string(key.second) + "@" + std::to_string(offset) +
                   ": " + RdKafka::err2str(err));
    }
  }

  // Everything handled so far: acknowledged and committed (drain, revocation).
  void finish(bool sync) {
    process_batch();
    if (!options.exactly_once && !wait_acknowledged(kClusterTimeoutMs))
      say("outputs still unacknowledged after " + std::to_string(kClusterTimeoutMs / 1000) +
          " s: their input offsets stay uncommitted and will be classified again");
    commit(sync);
  }

  void rebalance_cb(RdKafka::KafkaConsumer* c, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& changed) override {
    // Called from consume(); an exception must not cross librdkafka's C frames.
    try {
      ++rebalances;
      const bool cooperative = c->rebalance_protocol() == "COOPERATIVE";
      if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
        assigned_once = true;
        if (!changed.empty()) say("assigned " + describe(changed));
        if (cooperative) {
          std::unique_ptr<RdKafka::Error> error(c->incremental_assign(changed));
          if (error) throw Error("cannot take partitions: " + kafka::describe(*error));
        } else {
          c->assign(changed);
        }
        return;
      }
      say("revoked " + describe(changed) + (c->assignment_lost() ? " (lost)" : ""));
      if (c->assignment_lost()) {
        // Another worker owns them already: a commit would fail; the outputs in flight are its duplicates
        // at worst (at-least-once), or are aborted with the transaction.
        process_batch();
        if (options.exactly_once && in_transaction) {
          std::unique_ptr<RdKafka::Error> abort(producer->abort_transaction(kClusterTimeoutMs));
          in_transaction = false;
          transaction_next.clear();
          transaction_first.clear();
        }
      } else {
        // At-least-once: the revoked partitions' offsets are stored; librdkafka commits them as it
        // unassigns them. Exactly-once: the transaction, with its offsets, is committed.
        finish(false);
      }
      for (const RdKafka::TopicPartition* tp : changed) offsets.remove(tp->topic(), tp->partition());
      if (cooperative) {
        std::unique_ptr<RdKafka::Error> error(c->incremental_unassign(changed));
      } else {
        c->unassign();
      }
    } catch (const std::exception& e) {
      if (fatal.empty()) fatal = e.what();
    }
  }

  void event_cb(RdKafka::Event& event) override {
    if (event.type() == RdKafka::Event::EVENT_ERROR) {
      if (event.fatal() && fatal.empty()) fatal = "Kafka: " + event.str();
      note_error(RdKafka::err2str(event.err()) + ": " + event.str());
    } else if (event.type() == RdKafka::Event::EVENT_LOG && event.severity() <= RdKafka::Event::EVENT_SEVERITY_WARNING) {
      note_error(event.fac() + ": " + event.str());
    }
  }

  // Counts an error and says it, each distinct text at most once every 10 s (a broker down repeats).
  void note_error(const std::string& text) {
    ++errors;
    const auto now = Clock::now();
    std::lock_guard lock(mutex);
    auto [it, fresh] = said.try_emplace(text, now);
    if (!fresh && now - it->second < std::chrono::seconds(10)) return;
    it->second = now;
    if (said.size() > 1000) said.clear();
    say(text);
  }

  void update_lag() {
    std::vector<RdKafka::TopicPartition*> assigned;
    if (consumer->assignment(assigned) != RdKafka::ERR_NO_ERROR) return;
    consumer->position(assigned);
    std::map<std::string, std::int64_t> now;
    for (const RdKafka::TopicPartition* tp : assigned) {
      std::int64_t low = 0, high = 0;
      if (consumer->get_watermark_offsets(tp->topic(), tp->partition(), &low, &high) != RdKafka::ERR_NO_ERROR || high < 0)
        continue;
      const std::int64_t position = tp->offset() >= 0 ? tp->offset() : low;
      now[tp->topic() + "/" + std::to_string(tp->partition())] = std::max<std::int64_t>(high - position, 0);
    }
    RdKafka::TopicPartition::destroy(assigned);
    std::lock_guard lock(mutex);
    lag = std::move(now);
  }

  static std::string describe(const std::vector<RdKafka::TopicPartition*>& list) {
    std::string out;
    for (const RdKafka::TopicPartition* tp : list)
      out += (out.empty() ? "" : " ") + tp->topic() + "/" + std::to_string(tp->partition());
    return out.empty() ? "nothing" : out;
  }

  static std::string join(const std::vector<std::string>& names) {
    std::string out;
    for (const std::string& n : names) out += (out.empty() ? "" : ",") + n;
    return out;
  }

  KafkaMetrics snapshot() const {
    KafkaMetrics m;
    m.records_in = records_in;
    m.records_out = records_out;
    m.dead_letters = dead_letters;
    m.errors = errors;
    m.batches = batches;
    m.commits = commits;
    m.rebalances = rebalances;
    m.in_flight_bytes = in_flight_bytes;
    m.cache = cache.stats();
    std::lock_guard lock(mutex);
    m.batch_seconds_sum = batch_seconds_sum;
    m.batch_seconds_max = batch_seconds_max;
    m.lag = lag;
    m.per_label = per_label;
    return m;
  }

  Classifier classifier;
  KafkaOptions options;
  MessageCache cache;
  kafka::RecordCodec codec;
  CrashPoint crash;
  std::unique_ptr<RdKafka::Producer> producer;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer;
  std::map<std::string, int> partitions;     // of every topic written
  std::map<std::string, std::string> route;  // label -> topic
  const std::atomic<bool>* stopping = nullptr;
  std::string fatal;  // what stops the worker, set by the loop or a callback
  bool assigned_once = false;

  // The batch being handled, and buffers kept from batch to batch.
  std::vector<RdKafka::Message*> batch;
  Clock::time_point batch_started;
  std::vector<Record> records;
  std::vector<std::string> problems;
  std::vector<LogLine> lines;
  std::string value;

  kafka::OffsetTracker offsets;  // at-least-once
  bool in_transaction = false;   // exactly-once
  std::map<std::pair<std::string, std::int32_t>, std::int64_t> transaction_first, transaction_next;

  std::atomic<std::uint64_t> records_in{0}, records_out{0}, dead_letters{0}, errors{0}, batches{0}, commits{0},
      rebalances{0}, in_flight_bytes{0};
  mutable std::mutex mutex;  // guards what follows
  double batch_seconds_sum = 0, batch_seconds_max = 0;
  std::map<std::string, std::int64_t> lag;
  std::map<std::string, std::uint64_t> per_label;
  std::map<std::string, Clock::time_point> said;
};

KafkaWorker::KafkaWorker(Classifier classifier, KafkaOptions options, CacheOptions cache)
    : impl_(std::make_unique<Impl>(std::move(classifier), std::move(options), cache)) {}
KafkaWorker::~KafkaWorker() = default;

void KafkaWorker::run(const std::atomic<bool>& stop) { impl_->run(stop); }

KafkaMetrics KafkaWorker::metrics() const { return impl_->snapshot(); }

}  // namespace logclf
