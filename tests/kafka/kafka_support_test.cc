// Tests of the Kafka test support itself: the broker, the clients, the worker process and the output check,
// so that a failure of a worker test points at the worker.
#include <gtest/gtest.h>

#include <csignal>
#include <nlohmann/json.hpp>
#include <thread>

#include "kafka/support/clients.h"
#include "kafka/support/kafka_test.h"
#include "kafka/support/log_corpus.h"
#include "kafka/support/output_check.h"
#include "kafka/support/worker.h"
#include "support/paths.h"

namespace logclf::testing {
namespace {

using namespace std::chrono_literals;

using KafkaSupportTest = KafkaTest;

TEST_F(KafkaSupportTest, RecordsReadBackWithPartitionOffsetKeyAndHeaders) {
  const auto topic = name("t");
  broker().create_topic(topic, 3);
  EXPECT_EQ(partition_count(bootstrap(), topic), 3);
  const std::vector<KafkaRecord> records = {
      {.partition = 0, .key = "a", .value = "first", .headers = {{"h1", "x"}, {"h2", ""}}},
      {.partition = 1, .value = "no key"},
      {.partition = 0, .key = "b", .value = "second"},
      {.partition = 1, .key = "c", .value = "", .headers = {{"h", "only header"}}},
  };  // partition 2 stays empty: reading to the end must not wait for it
  produce(bootstrap(), topic, records);

  auto read = read_all(bootstrap(), topic);
  ASSERT_EQ(read.size(), records.size());
  std::stable_sort(read.begin(), read.end(), [](const auto& a, const auto& b) { return a.partition < b.partition; });
  const std::vector<std::size_t> order = {0, 2, 1, 3};  // records by partition, then offset
  for (std::size_t i = 0; i < read.size(); ++i) {
    const auto& expected = records[order[i]];
    EXPECT_EQ(read[i].partition, expected.partition);
    EXPECT_EQ(read[i].offset, i == 0 || i == 2 ? 0 : 1);
    EXPECT_EQ(read[i].key, expected.key);
    EXPECT_EQ(read[i].value, expected.value);
    EXPECT_EQ(read[i].headers, expected.headers);
  }
  EXPECT_EQ(read[0].header("h1"), "x");
  EXPECT_EQ(read[0].header("none"), std::nullopt);

  EXPECT_EQ(read_all(bootstrap(), topic, /*read_committed=*/true).size(), records.size());
  EXPECT_EQ(consume(bootstrap(), topic, records.size(), 10s).size(), records.size());
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(consume(bootstrap(), topic, records.size() + 1, 2s).size(), records.size());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 20s) << "consume() did not give up after 2 s idle";
}

TEST_F(KafkaSupportTest, RecordsAndTopicsSurviveABrokerRestart) {
  const auto topic = name("t");
  broker().create_topic(topic, 2);
  std::vector<KafkaRecord> records(1000);
  for (std::size_t i = 0; i < records.size(); ++i)
    records[i] = {.partition = static_cast<std::int32_t>(i % 2), .value = std::to_string(i)};
  produce(bootstrap(), topic, records);

  broker().stop();
  EXPECT_EQ(partition_count(bootstrap(), topic), 0) << "the broker still answers after stop()";
  broker().start();
  ASSERT_TRUE(broker().error().empty()) << broker().error();

  EXPECT_EQ(read_all(bootstrap(), topic).size(), 1000u);
  produce(bootstrap(), topic, {{.partition = 0, .value = "after the restart"}});
  EXPECT_EQ(read_all(bootstrap(), topic).size(), 1001u);
}

// Worker runs any logclf command; `serve` runs until a signal, like `logclf kafka`.
TEST(KafkaWorkerProcessTest, ReportsExitStatusAndOutput) {
  Worker version({"--version"});
  const auto status = version.wait(30s);
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->exited(0)) << status->to_string();
  EXPECT_NE(version.log(), "");

  Worker terminated({"serve", "--port", "0"});
  for (int i = 0; i < 300 && terminated.log().find("serving on") == std::string::npos; ++i)
    std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(terminated.running());
  terminated.terminate();
  const auto terminated_status = terminated.wait(30s);
  ASSERT_TRUE(terminated_status) << "still running 30 s after SIGTERM";
  EXPECT_TRUE(terminated_status->exited(0)) << terminated_status->to_string();

  Worker killed({"serve", "--port", "0"});
  killed.kill9();
  const auto killed_status = killed.wait(30s);
  ASSERT_TRUE(killed_status);
  EXPECT_TRUE(killed_status->killed_by(SIGKILL)) << killed_status->to_string();
  EXPECT_FALSE(killed.running());
}

TEST(KafkaLogCorpusTest, RecordsCarryTheCsvRowsKeysPartitionsAndSeqs) {
  if (shared_file("data/synthetic_logs.csv").empty()) GTEST_SKIP() << "no ../shared/data/synthetic_logs.csv";
  const auto records = LogCorpus::instance().records(3000, 3);
  ASSERT_EQ(records.size(), 3000u);
  const auto first = nlohmann::json::parse(records[0].value);
  // The first row's message is quoted in the CSV, with doubled quotes inside.
  EXPECT_NE(first.at("log_message").get<std::string>().find("\"GET /v2/"), std::string::npos) << first;
  EXPECT_EQ(first.at("source"), "ModernCRM");
  EXPECT_EQ(first.at("timestamp"), "2025-06-27 7:20:25");
  EXPECT_EQ(records[1234].key, "k234");
  EXPECT_EQ(records[1234].partition, 234 % 3);
  EXPECT_EQ(seq_of(records[2999].value), 2999u);
  const std::size_t rows = LogCorpus::instance().rows();
  EXPECT_EQ(rows, 2410u);
  EXPECT_EQ(nlohmann::json::parse(records[rows].value).at("log_message"), first.at("log_message"));

  const std::vector<KafkaRecord> some(records.begin(), records.begin() + 100);
  const auto labels = reference_labels(some);
  ASSERT_EQ(labels.size(), 100u);
  EXPECT_EQ(labels[0], "HTTP Status");
  for (const auto& label : labels) EXPECT_NE(label, "");
}

TEST(KafkaOutputCheckTest, CountsMissingDuplicateOutOfOrderAndWrongOutputs) {
  std::vector<KafkaRecord> inputs;
  for (int seq = 0; seq < 6; ++seq)
    inputs.push_back({.partition = seq % 2,
                      .key = "k" + std::to_string(seq),
                      .value = nlohmann::json{{"log_message", "m" + std::to_string(seq)}, {"seq", seq}}.dump()});
  const std::vector<std::string> labels(6, "Error");
  const auto output = [&](int seq, std::int32_t partition, const std::string& label, const std::string& message) {
    return KafkaRecord{
        .partition = partition,
        .key = "k" + std::to_string(seq),
        .value = nlohmann::json{{"log_message", message}, {"seq", seq}, {"predicted_label", label}}.dump()};
  };
  const std::vector<KafkaRecord> outputs = {
      output(0, 0, "Error", "m0"),
      output(4, 0, "Error", "m4"),
      output(2, 0, "Error", "m2"),                        // out of order
      output(0, 0, "Error", "m0"),                        // duplicate
      output(1, 1, "Warning", "m1"),                      // mislabeled
      output(3, 0, "Error", "m3"),                        // wrong partition
      {.partition = 1, .key = "k", .value = "not json"},  // mismatched
  };                                                      // seq 5 missing
  const auto check = check_output(outputs, inputs, labels, 2);
  EXPECT_EQ(check.outputs, 7u);
  EXPECT_EQ(check.missing, 1u) << check.summary();
  EXPECT_EQ(check.duplicates, 1u) << check.summary();
  EXPECT_EQ(check.out_of_order, 1u) << check.summary();
  EXPECT_EQ(check.mislabeled, 1u) << check.summary();
  EXPECT_EQ(check.mismatched, 2u) << check.summary();
  EXPECT_EQ(check.examples.size(), 6u) << check.summary();

  // Order holds per topic: outputs routed to several topics interleave.
  std::vector<KafkaRecord> routed = {output(0, 0, "Error", "m0"), output(4, 0, "Error", "m4"), output(2, 0, "Error", "m2")};
  routed[1].topic = "another";
  EXPECT_EQ(check_output(routed, inputs, labels, 2).out_of_order, 0u);
}

}  // namespace
}  // namespace logclf::testing
