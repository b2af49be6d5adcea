// The Kafka worker's parts that need no broker: record values in and out, topic names, and which input
// offsets may be committed.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "kafka/offsets.h"
#include "kafka/record_codec.h"
#include "logclf/kafka.h"

namespace logclf {
namespace {

using nlohmann::json;

Prediction model_answer(std::string label, double confidence) {
  Prediction p;
  p.label = std::move(label);
  p.stage = Stage::model;
  p.confidence = confidence;
  return p;
}

Prediction rule_answer() {
  Prediction p;
  p.label = "Security Alert";
  p.stage = Stage::rule;
  p.rule = "failed-login";
  p.confidence = 1.0;
  return p;
}

std::string round_trip(kafka::RecordCodec& codec, std::string_view value, const Prediction& p) {
  Record r;
  const std::string problem = codec.decode(value.data(), value.size(), r);
  EXPECT_EQ(problem, "") << value;
  std::string out;
  codec.encode(r, p, out);
  return out;
}

TEST(KafkaCodec, JsonObjectsKeepTheirKeysAndGainTheLabel) {
  KafkaOptions options;
  kafka::RecordCodec codec(options);
  const std::string out = round_trip(
      codec, R"( {"ts": 17, "source": "web", "message": "Disk full", "nested": {"a": [1, 2]}} )" "\n",
      model_answer("Critical Error", 0.93));
  const json parsed = json::parse(out);
  EXPECT_EQ(parsed["ts"], 17);
  EXPECT_EQ(parsed["message"], "Disk full");
  EXPECT_EQ(parsed["nested"]["a"][1], 2);
  EXPECT_EQ(parsed["predicted_label"], "Critical Error");
  EXPECT_FALSE(parsed.contains("stage"));
  Record r;
  const std::string value = R"({"source":"web","log":"a \"quoted\" \u00e9 line"})";
  ASSERT_EQ(codec.decode(value.data(), value.size(), r), "");
  EXPECT_EQ(r.message, "a \"quoted\" \u00e9 line");  // the JSON string decoded
  EXPECT_EQ(r.source, "web");
}

TEST(KafkaCodec, ExplainAddsStageRuleAndConfidence) {
  KafkaOptions options;
  options.explain = true;
  kafka::RecordCodec codec(options);
  const Prediction rule = rule_answer();
  const json a = json::parse(round_trip(codec, R"({"log_message":"x"})", rule));
  EXPECT_EQ(a["stage"], "rule");
  EXPECT_EQ(a["rule"], "failed-login");
  EXPECT_EQ(a["confidence"], 1.0);
  const json b = json::parse(round_trip(codec, R"({"log_message":"y"})", model_answer("Uncertain", 0.41)));
  EXPECT_EQ(b["stage"], "model");
  EXPECT_TRUE(b["rule"].is_null());
  EXPECT_DOUBLE_EQ(b["confidence"].get<double>(), 0.41);
}

TEST(KafkaCodec, KeysTheRecordHasAlreadyGetTheirNewValueWhereTheyStand) {
  // A record classified once already (or by another tool) keeps one predicted_label, not two.
  KafkaOptions options;
  options.explain = true;
  kafka::RecordCodec codec(options);
  const Prediction rule = rule_answer();
  EXPECT_EQ(round_trip(codec, R"({"predicted_label": "old", "log_message":"x", "stage":null})", rule),
            R"({"predicted_label": "Security Alert", "log_message":"x", "stage":"rule","rule":"failed-login","confidence":1.0000})");
  // Spelled with an escape, the key is the same key.
  EXPECT_EQ(round_trip(codec, R"({"log_message":"x","predicted\u005flabel":1})", rule),
            R"({"log_message":"x","predicted\u005flabel":"Security Alert","stage":"rule","rule":"failed-login","confidence":1.0000})");
}

TEST(KafkaCodec, PlainTextBecomesAnObject) {
  KafkaOptions options;
  kafka::RecordCodec codec(options);
  const json out = json::parse(round_trip(codec, "kernel: Out of memory: Kill process 42\r\n", model_answer("Critical Error", 0.8)));
  EXPECT_EQ(out, json::parse(R"({"log_message":"kernel: Out of memory: Kill process 42","predicted_label":"Critical Error"})"));
  // --input-format text: a value that looks like JSON is still text.
  options.input_format = KafkaInputFormat::text;
  kafka::RecordCodec text(options);
  Record r;
  const std::string value = R"({"log_message": "x"})";
  ASSERT_EQ(text.decode(value.data(), value.size(), r), "");
  EXPECT_EQ(r.message, value);
}

TEST(KafkaCodec, BadRecordsSayWhatIsWrong) {
  KafkaOptions options;
  options.max_record_bytes = 64;
  kafka::RecordCodec codec(options);
  Record r;
  const auto problem = [&](const char* value, std::size_t size) { return codec.decode(value, size, r); };
  EXPECT_EQ(problem(nullptr, 0), "the record has no value");
  EXPECT_EQ(problem("  \n", 3), "the value is empty");
  EXPECT_NE(problem(R"({"log_message": "oops)", 20).find("invalid JSON"), std::string::npos);
  EXPECT_EQ(problem(R"({"text": "x"})", 13), "no field 'log_message', 'message', 'log' or 'msg'");
  EXPECT_EQ(problem(R"({"message": 7})", 14), "field 'message' is not a string");
  const std::string big(65, 'a');
  EXPECT_EQ(problem(big.data(), big.size()), "the value has 65 bytes, more than the limit of 64");
  // A label field of any type passes through: records carry no label.
  EXPECT_EQ(problem(R"({"message":"x","target_label":3})", 32), "");
  // Invalid UTF-8 is repaired, or refused with --strict.
  const std::string latin1 = "caf\xe9 closed";
  EXPECT_EQ(problem(latin1.data(), latin1.size()), "");
  EXPECT_EQ(r.message, "caf\xef\xbf\xbd closed");
  options.strict_utf8 = true;
  kafka::RecordCodec strict(options);
  EXPECT_EQ(strict.decode(latin1.data(), latin1.size(), r), "invalid UTF-8 at byte 4 of the value");
}

TEST(KafkaCodec, MessageKeysAreTriedInOrder) {
  KafkaOptions options;
  options.message_keys = {"body", "message"};
  kafka::RecordCodec codec(options);
  Record r;
  const std::string value = R"({"message":"second","body":"first"})";
  ASSERT_EQ(codec.decode(value.data(), value.size(), r), "");
  EXPECT_EQ(r.message, "first");
  std::string out;
  const std::string text = "plain";
  ASSERT_EQ(codec.decode(text.data(), text.size(), r), "");
  codec.encode(r, model_answer("A", 0.9), out);
  EXPECT_EQ(out, R"({"body":"plain","predicted_label":"A"})");
}

TEST(KafkaTopics, LabelsBecomeTopicNames) {
  EXPECT_EQ(kafka_topic_slug("Security Alert"), "security-alert");
  EXPECT_EQ(kafka_topic_slug("  HTTP 5xx / errors!! "), "http-5xx-errors");
  EXPECT_EQ(kafka_topic_slug("Uncertain"), "uncertain");
  EXPECT_EQ(kafka_topic_slug("Überfall"), "berfall");  // only ASCII letters and digits are kept
  EXPECT_EQ(kafka_topic_slug("--"), "");
}

// An offset is committable only when the outputs of its record and of every earlier record of its partition
// are acknowledged, whatever order the acknowledgements come in.
TEST(KafkaOffsets, CommitOnlyAcknowledgedPrefixes) {
  kafka::OffsetTracker t;
  auto* a0 = t.add("raw", 0, 10);
  auto* a1 = t.add("raw", 0, 11);
  auto* a2 = t.add("raw", 0, 12);
  auto* b0 = t.add("raw", 1, 5);
  EXPECT_TRUE(t.committable().empty());
  t.ack(a1);
  t.ack(b0);
  auto ready = t.committable();
  ASSERT_EQ(ready.size(), 1u);  // raw/0 waits for offset 10
  EXPECT_EQ(ready[0].first->id, 1);
  EXPECT_EQ(ready[0].second, 6);  // the next record to read
  t.mark_committed("raw", 1, 6);
  EXPECT_TRUE(t.committable().empty());
  t.ack(a0);
  ready = t.committable();
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_EQ(ready[0].second, 12);  // 10 and 11 done, 12 in flight
  t.ack(a2);
  EXPECT_EQ(t.committable()[0].second, 13);
  EXPECT_EQ(t.in_flight(), 0u);
}

// A partition revoked (or lost) while outputs of it are in flight: their acknowledgements come later and
// must find their slots alive (before, they wrote into freed memory: a worker died of "double free or
// corruption" in a rebalance), and they commit nothing of the partition's next owner.
TEST(KafkaOffsets, AcknowledgementsAfterARevocation) {
  kafka::OffsetTracker t;
  auto* a = t.add("raw", 0, 100);
  auto* b = t.add("raw", 0, 101);
  auto* c = t.add("raw", 1, 7);
  t.ack(c);
  t.remove("raw", 0);
  t.remove("raw", 1);
  EXPECT_TRUE(t.committable().empty());
  auto* fresh = t.add("raw", 0, 250);  // assigned again, from its committed offset
  t.ack(b);
  t.ack(a);
  EXPECT_TRUE(t.committable().empty()) << "the old slots say nothing of the new assignment";
  t.ack(fresh);
  ASSERT_EQ(t.committable().size(), 1u);
  EXPECT_EQ(t.committable()[0].second, 251);
  EXPECT_EQ(t.in_flight(), 0u);
}

TEST(KafkaMetrics, PrometheusText) {
  KafkaMetrics m;
  m.records_in = 1500;
  m.lag["raw.events/3"] = 42;
  m.per_label["Security \"Alert\""] = 7;
  const std::string text = to_prometheus(m);
  EXPECT_NE(text.find("\nlogclf_kafka_records_in_total 1500\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nlogclf_kafka_lag{topic=\"raw.events\",partition=\"3\"} 42\n"), std::string::npos) << text;
  EXPECT_NE(text.find("{label=\"Security \\\"Alert\\\"\"} 7\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace logclf
