// End-to-end tests of `logclf kafka` on a real broker: workers run as separate processes, as in production,
// and are judged by what they leave in the output topics. Each test has its own topics and group.
#include <gtest/gtest.h>
#include <httplib.h>

#include <csignal>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "kafka/support/clients.h"
#include "kafka/support/kafka_test.h"
#include "kafka/support/log_corpus.h"
#include "kafka/support/output_check.h"
#include "kafka/support/worker.h"

namespace logclf::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

#ifdef LOGCLF_SANITIZE
constexpr std::size_t kRecords = 10'000;  // the sanitizers slow the worker down several times
#else
constexpr std::size_t kRecords = 100'000;
#endif
// No new output for this long means a worker is stuck. Generous: it covers a group rebalance and an
// aborted transaction's timeout after a crash.
constexpr auto kIdle = 90s;

// The corpus's first `count` records, spread over `partitions`.
std::vector<KafkaRecord> corpus_records(std::size_t count, int partitions) {
#ifdef LOGCLF_SANITIZE
  static std::once_flag said;
  std::call_once(said, [] {
    std::cout << "Sanitizer build: the Kafka worker tests use " << kRecords << " records where they use 100000 "
              << "otherwise\n";
  });
#endif
  return LogCorpus::instance().records(count, partitions);
}

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

template <typename... Extra>
std::vector<std::string> with(std::vector<std::string> args, Extra... extra) {
  (args.push_back(extra), ...);
  return args;
}

// After SIGTERM (sent at `signalled`) a worker drains, commits and exits 0. A second SIGTERM would end it
// at once.
void expect_clean_exit(Worker& worker, Clock::time_point signalled, std::chrono::seconds limit = 30s) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(signalled + limit - Clock::now());
  const auto status = worker.wait(left);
  ASSERT_TRUE(status) << "the worker still runs " << limit.count() << " s after SIGTERM";
  EXPECT_TRUE(status->exited(0)) << "after SIGTERM: " << status->to_string();
  std::cout << "  stopped by SIGTERM in " << seconds_since(signalled) << " s\n";
}

void stop(Worker& worker, std::chrono::seconds limit = 30s) {
  worker.terminate();
  expect_clean_exit(worker, Clock::now(), limit);
}

struct Expectations {
  bool duplicates_allowed = false;
  bool in_order = true;
};

// Every input present with the label of `logclf classify`, and per `expected`, once and in input order.
void expect_output(const OutputCheck& check, Expectations expected = {}) {
  std::cout << "  output check: " << check.summary() << "\n";  // also the duplicates a crash may leave
  EXPECT_EQ(check.missing, 0u) << "inputs without an output";
  if (!expected.duplicates_allowed) {
    EXPECT_EQ(check.duplicates, 0u) << "inputs output more than once";
  }
  if (expected.in_order) {
    EXPECT_EQ(check.out_of_order, 0u) << "outputs of one input partition out of order";
  }
  EXPECT_EQ(check.mislabeled, 0u) << "labels other than logclf classify's";
  EXPECT_EQ(check.mismatched, 0u) << "outputs that are not their input with a label";
}

class KafkaWorkerTest : public KafkaTest {
 protected:
  // Creates `in` and `out` with `partitions` each (equal counts: an input partition's order is kept in the
  // output partition of the same number) and produces `inputs` to `in`.
  void create_and_fill(const std::string& in, const std::string& out, int partitions,
                       const std::vector<KafkaRecord>& inputs) {
    broker().create_topic(in, partitions);
    broker().create_topic(out, partitions);
    produce(bootstrap(), in, inputs);
  }
};

// Waits until a worker has created `topic`.
bool wait_for_topic(const std::string& bootstrap, const std::string& topic) {
  for (const auto deadline = Clock::now() + kIdle; Clock::now() < deadline; std::this_thread::sleep_for(200ms))
    if (partition_count(bootstrap, topic) > 0) return true;
  return false;
}

TEST_F(KafkaWorkerTest, AtLeastOnceOutputsEveryRecordInOrderWithTheLabelsOfClassify) {
  const auto inputs = corpus_records(kRecords, 3);
  const auto labels = reference_labels(inputs);
  const auto in = name("raw"), out = name("labelled");
  create_and_fill(in, out, 3, inputs);

  const auto start = Clock::now();
  Worker worker(kafka_args(bootstrap(), in, out, name("group")));
  TopicReader output(bootstrap(), out, /*read_committed=*/false);
  ASSERT_TRUE(read_until_every_seq(output, inputs.size(), kIdle))
      << "the output stalled after " << output.records().size() << " records";
  std::cout << "  " << inputs.size() << " records classified in " << seconds_since(start)
            << " s, worker start included\n";
  stop(worker);
  expect_output(check_output(read_all(bootstrap(), out), inputs, labels, 3));
}

TEST_F(KafkaWorkerTest, ExactlyOnceThreeWorkersOutputEveryRecordOnce) {
  const auto inputs = corpus_records(kRecords, 6);
  const auto labels = reference_labels(inputs);
  const auto in = name("raw"), out = name("labelled");
  create_and_fill(in, out, 6, inputs);

  const auto start = Clock::now();
  std::vector<std::unique_ptr<Worker>> workers;
  for (int i = 0; i < 3; ++i)
    workers.push_back(std::make_unique<Worker>(with(kafka_args(bootstrap(), in, out, name("group")), "--exactly-once")));
  TopicReader output(bootstrap(), out, /*read_committed=*/true);
  ASSERT_TRUE(read_until_every_seq(output, inputs.size(), kIdle))
      << "the committed output stalled after " << output.records().size() << " records";
  std::cout << "  " << inputs.size() << " records classified by 3 workers in " << seconds_since(start) << " s\n";
  // All at once: a worker leaving hands its partitions to workers that are stopping too.
  const auto signalled = Clock::now();
  for (auto& worker : workers) worker->terminate();
  for (auto& worker : workers) expect_clean_exit(*worker, signalled);
  expect_output(check_output(read_all(bootstrap(), out, /*read_committed=*/true), inputs, labels, 6));
}

struct CrashCase {
  const char* name;
  bool exactly_once;
  // LOGCLF_KAFKA_CRASH's: before-produce, or after-produce (outputs acknowledged, input offsets not committed)
  const char* point;
};

class KafkaWorkerCrashTest : public KafkaWorkerTest, public ::testing::WithParamInterface<CrashCase> {};

TEST_P(KafkaWorkerCrashTest, ANewWorkerCompletesTheOutputOfAWorkerKilledMidway) {
  const CrashCase& c = GetParam();
  const std::size_t count = kRecords / 2, crash_at = count / 2;
  const auto inputs = corpus_records(count, 3);
  const auto labels = reference_labels(inputs);
  const auto in = name("raw"), out = name("labelled");
  create_and_fill(in, out, 3, inputs);
  // The group waits for the killed member's session to expire before the next worker gets its partitions:
  // 6 s (the broker's minimum) instead of librdkafka's 45 s keeps the test short.
  auto args = with(kafka_args(bootstrap(), in, out, name("group")), "-X", "session.timeout.ms=6000");
  if (c.exactly_once) args.push_back("--exactly-once");

  Worker crashing(args, {{"LOGCLF_KAFKA_CRASH", std::string(c.point) + ":" + std::to_string(crash_at)}});
  const auto crashed = crashing.wait(kIdle);
  ASSERT_TRUE(crashed) << "the worker did not kill itself at " << c.point << ":" << crash_at;
  ASSERT_TRUE(crashed->killed_by(SIGKILL)) << crashed->to_string();
  std::cout << "  the killed worker left " << read_all(bootstrap(), out, c.exactly_once).size()
            << (c.exactly_once ? " committed" : "") << " outputs\n";

  const auto start = Clock::now();
  Worker next(args);
  TopicReader output(bootstrap(), out, c.exactly_once);
  ASSERT_TRUE(read_until_every_seq(output, inputs.size(), kIdle))
      << "the output stalled after " << output.records().size() << " records";
  std::cout << "  the next worker completed the output in " << seconds_since(start) << " s\n";
  stop(next);
  // At-least-once: the killed worker's outputs since its last commit come again (first occurrences stay
  // in order); exactly-once: its open transaction is aborted.
  const auto check = check_output(read_all(bootstrap(), out, c.exactly_once), inputs, labels, 3);
  expect_output(check, {.duplicates_allowed = !c.exactly_once});
  // Killed after-produce, a worker leaves outputs past its committed offsets: proof it died there.
  if (std::string_view(c.point) == "after-produce" && !c.exactly_once) {
    EXPECT_GT(check.duplicates, 0u) << "no output of the killed worker came again";
  }
  if (std::string_view(c.point) == "after-produce" && c.exactly_once) {
    EXPECT_GT(read_all(bootstrap(), out).size(), check.outputs) << "no aborted outputs of the killed worker";
  }
}

INSTANTIATE_TEST_SUITE_P(Crash, KafkaWorkerCrashTest,
                         ::testing::Values(CrashCase{"AtLeastOnceBeforeProduce", false, "before-produce"},
                                           CrashCase{"AtLeastOnceAfterProduce", false, "after-produce"},
                                           CrashCase{"ExactlyOnceBeforeProduce", true, "before-produce"},
                                           CrashCase{"ExactlyOnceAfterProduce", true, "after-produce"}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST_F(KafkaWorkerTest, CarriesOnWhenTheBrokerRestarts) {
  const auto inputs = corpus_records(kRecords, 3);
  const auto labels = reference_labels(inputs);
  const auto in = name("raw"), out = name("labelled");
  const std::size_t half = inputs.size() / 2;
  const auto middle = inputs.begin() + static_cast<std::ptrdiff_t>(half);
  create_and_fill(in, out, 3, std::vector<KafkaRecord>(inputs.begin(), middle));

  Worker worker(kafka_args(bootstrap(), in, out, name("group")));
  TopicReader output(bootstrap(), out, /*read_committed=*/false);
  ASSERT_TRUE(output.read_until([&](const KafkaRecord&) { return output.records().size() >= half / 10; }, kIdle))
      << "the output stalled after " << output.records().size() << " records";
  broker().stop();
  std::cout << "  broker stopped after " << output.records().size() << " outputs\n";
  std::this_thread::sleep_for(3s);
  broker().start();
  ASSERT_TRUE(broker().error().empty()) << broker().error();
  // Records produced after the restart: the worker must have reconnected to output them.
  produce(bootstrap(), in, std::vector<KafkaRecord>(middle, inputs.end()));
  ASSERT_TRUE(read_until_every_seq(output, inputs.size(), kIdle))
      << "the output stalled after " << output.records().size() << " records";
  stop(worker);
  // Outputs in flight when the broker went away may be written again, and retried ones after later ones.
  expect_output(check_output(read_all(bootstrap(), out), inputs, labels, 3),
                {.duplicates_allowed = true, .in_order = false});
}

TEST_F(KafkaWorkerTest, DeadLetterTopicTakesUnreadableRecordsWithTheProblem) {
  const auto good = corpus_records(10, 1);
  const std::string malformed = R"({"log_message": "oops)";
  const std::string no_message = R"({"source": "ModernCRM", "level": "INFO"})";
  const std::string text = "Disk usage at 97% on volume /var/lib/postgresql";
  std::vector<KafkaRecord> inputs(good.begin(), good.begin() + 5);               // offsets 0-4
  inputs.push_back({.partition = 0, .key = "bad-json", .value = malformed});     // offset 5
  inputs.push_back({.partition = 0, .key = "no-message", .value = no_message});  // offset 6
  inputs.push_back({.partition = 0, .key = "text", .value = text});              // offset 7
  inputs.insert(inputs.end(), good.begin() + 5, good.end());                     // offsets 8-12
  const auto in = name("raw"), out = name("labelled"), dead = name("dead");
  create_and_fill(in, out, 1, inputs);
  broker().create_topic(dead, 1);

  Worker worker(with(kafka_args(bootstrap(), in, out, name("group")), "--dead-letter", dead));
  EXPECT_EQ(consume(bootstrap(), out, 11, kIdle).size(), 11u);
  EXPECT_EQ(consume(bootstrap(), dead, 2, kIdle).size(), 2u);
  stop(worker);

  // The output: the good records and the plain text, in input order.
  std::vector<KafkaRecord> expected(good.begin(), good.begin() + 5);
  expected.push_back({.partition = 0, .key = "text", .value = nlohmann::json{{"log_message", text}}.dump()});
  expected.insert(expected.end(), good.begin() + 5, good.end());
  const auto labels = reference_labels(expected);
  const auto outputs = read_all(bootstrap(), out);
  ASSERT_EQ(outputs.size(), expected.size());
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    SCOPED_TRACE("output " + std::to_string(i) + ": " + outputs[i].value);
    const auto value = nlohmann::json::parse(outputs[i].value, nullptr, false);
    ASSERT_TRUE(value.is_object());
    auto expected_value = nlohmann::json::parse(expected[i].value);
    expected_value["predicted_label"] = labels[i];
    EXPECT_EQ(value, expected_value);
    EXPECT_EQ(outputs[i].key, expected[i].key);
  }

  const auto dead_letters = read_all(bootstrap(), dead);
  ASSERT_EQ(dead_letters.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    const KafkaRecord& letter = dead_letters[i];
    const KafkaRecord& input = inputs[5 + i];
    SCOPED_TRACE("dead letter of " + input.value);
    EXPECT_EQ(letter.value, input.value);
    EXPECT_EQ(letter.key, input.key);
    const auto error = letter.header("logclf.error");
    ASSERT_TRUE(error);
    EXPECT_NE(*error, "");
    std::cout << "  logclf.error of " << input.value << ": " << *error << "\n";
    EXPECT_EQ(letter.header("logclf.topic"), in);
    EXPECT_EQ(letter.header("logclf.partition"), "0");
    EXPECT_EQ(letter.header("logclf.offset"), std::to_string(5 + i));
  }
}

TEST_F(KafkaWorkerTest, ABadRecordWithoutADeadLetterTopicStopsTheWorkerWithExit1) {
  auto inputs = corpus_records(3, 1);
  inputs.push_back({.partition = 0, .key = "bad-json", .value = R"({"log_message": "oops)"});
  const auto in = name("raw"), out = name("labelled");
  create_and_fill(in, out, 1, inputs);

  Worker worker(kafka_args(bootstrap(), in, out, name("group")));
  const auto status = worker.wait(kIdle);
  ASSERT_TRUE(status) << "the worker still runs";
  EXPECT_TRUE(status->exited(1)) << status->to_string();
  EXPECT_NE(worker.log(), "") << "no message on stderr";
}

// "Security Alert" -> "security-alert": lower case, each run of other characters than letters and digits '-'.
std::string slug(const std::string& label) {
  std::string slug;
  for (const char c : label) {
    if (std::isalnum(static_cast<unsigned char>(c)))
      slug += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    else if (slug.empty() || slug.back() != '-')
      slug += '-';
  }
  return slug;
}

TEST_F(KafkaWorkerTest, RouteSendsEachLabelToATopicOfItsOwn) {
  const auto inputs = corpus_records(2000, 2);
  const auto labels = reference_labels(inputs);
  std::map<std::string, std::size_t> per_label;
  for (const auto& label : labels) ++per_label[label];
  ASSERT_TRUE(per_label.count("Security Alert")) << "the test needs records labelled Security Alert";
  const auto in = name("raw"), out = name("labelled");
  create_and_fill(in, out, 2, inputs);

  Worker worker(with(kafka_args(bootstrap(), in, out, name("group")), "--route"));
  for (const auto& [label, count] : per_label) {
    const auto topic = out + "." + slug(label);
    ASSERT_TRUE(wait_for_topic(bootstrap(), topic)) << "no topic " << topic;
    EXPECT_EQ(consume(bootstrap(), topic, count, kIdle).size(), count) << topic;
  }
  stop(worker);

  EXPECT_EQ(slug("Security Alert"), "security-alert");
  std::vector<KafkaRecord> routed;
  for (const auto& [label, count] : per_label) {
    const auto topic = out + "." + slug(label);
    SCOPED_TRACE(topic);
    EXPECT_EQ(partition_count(bootstrap(), topic), 2) << "route topics get the output topic's partition count";
    const auto records = read_all(bootstrap(), topic);
    for (const auto& record : records)
      EXPECT_EQ(nlohmann::json::parse(record.value).value("predicted_label", ""), label) << record.value;
    routed.insert(routed.end(), records.begin(), records.end());
  }
  std::cout << "  " << per_label.size() << " route topics, " << per_label["Security Alert"]
            << " records in " << out << ".security-alert\n";
  expect_output(check_output(routed, inputs, labels, 2));
  EXPECT_EQ(read_all(bootstrap(), out).size(), 0u) << "with --route, outputs go to the label topics instead";
}

TEST_F(KafkaWorkerTest, SigtermDrainsAndCommitsSoTheNextWorkerRepeatsNothing) {
  const auto inputs = corpus_records(kRecords, 3);
  const auto labels = reference_labels(inputs);
  const auto in = name("raw"), out = name("labelled");
  create_and_fill(in, out, 3, inputs);
  const auto args = kafka_args(bootstrap(), in, out, name("group"));

  Worker first(args);
  TopicReader output(bootstrap(), out, /*read_committed=*/false);
  ASSERT_TRUE(output.read_until([](const KafkaRecord&) { return true; }, kIdle)) << "no output";
  stop(first, 10s);  // "within a few seconds"
  const std::size_t first_outputs = read_all(bootstrap(), out).size();
  std::cout << "  the first worker output " << first_outputs << " of " << inputs.size() << " records\n";
  if (first_outputs == inputs.size()) std::cout << "  (it had finished: nothing was left for the next one)\n";

  Worker next(args);
  ASSERT_TRUE(read_until_every_seq(output, inputs.size(), kIdle))
      << "the output stalled after " << output.records().size() << " records";
  stop(next);
  expect_output(check_output(read_all(bootstrap(), out), inputs, labels, 3));
}

// Workers stopped while their group still forms (a deployment scaled up, then rolled back) must drain and
// exit 0 too. Closing a consumer in the middle of a cooperative rebalance is where librdkafka has had bugs
// (confluentinc/librdkafka#4312: abort, fixed in 2.3.0; #4527: close() hangs, fixed in 2.4.0), so several
// rounds, SIGTERM at different moments of the joining.
TEST_F(KafkaWorkerTest, WorkersStoppedWhileTheirGroupFormsExitCleanly) {
  const auto inputs = corpus_records(1000, 3);
  const auto in = name("raw"), out = name("labelled");
  create_and_fill(in, out, 3, inputs);
  for (const auto delay : {500ms, 1000ms, 1500ms, 2000ms, 3000ms}) {
    SCOPED_TRACE("SIGTERM " + std::to_string(delay.count()) + " ms after the start");
    const auto group = name("group-" + std::to_string(delay.count()));
    std::vector<std::unique_ptr<Worker>> workers;
    for (int i = 0; i < 3; ++i) workers.push_back(std::make_unique<Worker>(kafka_args(bootstrap(), in, out, group)));
    std::this_thread::sleep_for(delay);
    const auto signalled = Clock::now();
    for (auto& worker : workers) worker->terminate();
    for (auto& worker : workers) expect_clean_exit(*worker, signalled, 20s);
  }
}

TEST_F(KafkaWorkerTest, ExplainAddsStageRuleAndConfidence) {
  const auto inputs = corpus_records(100, 1);
  const auto in = name("raw"), out = name("labelled");
  create_and_fill(in, out, 1, inputs);

  Worker worker(with(kafka_args(bootstrap(), in, out, name("group")), "--explain"));
  const auto outputs = consume(bootstrap(), out, inputs.size(), kIdle);
  stop(worker);
  ASSERT_EQ(outputs.size(), inputs.size());
  for (const auto& output : outputs) {
    const auto value = nlohmann::json::parse(output.value);
    for (const char* key : {"predicted_label", "stage", "rule", "confidence"})
      EXPECT_TRUE(value.contains(key)) << key << " missing in " << output.value;
  }
}

TEST_F(KafkaWorkerTest, MetricsPortZeroServesMetricsOnAFreePort) {
  const auto inputs = corpus_records(100, 1);
  const auto in = name("raw"), out = name("labelled");
  create_and_fill(in, out, 1, inputs);

  Worker worker(with(kafka_args(bootstrap(), in, out, name("group")), "--metrics-port", "0"));
  EXPECT_EQ(consume(bootstrap(), out, inputs.size(), kIdle).size(), inputs.size());
  std::smatch match;
  const std::string log = worker.log();
  ASSERT_TRUE(std::regex_search(log, match, std::regex(R"(metrics on http://127\.0\.0\.1:(\d+)/metrics)")))
      << "no metrics address in the log";
  httplib::Client client("127.0.0.1", std::stoi(match[1]));
  const auto response = client.Get("/metrics");
  ASSERT_TRUE(response) << "no answer from " << match[0];
  EXPECT_EQ(response->status, 200);
  EXPECT_NE(response->body, "");
  stop(worker);
}

}  // namespace
}  // namespace logclf::testing
