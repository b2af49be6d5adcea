// The bodies log shippers send, exactly as tests/data/shippers/ holds them (docs/INTEGRATIONS.md says where
// each shipper documents its shape), and the answers checked: every record back, in order, each of its
// fields kept with its text untouched (Fluent Bit's `date` double, Vector's `timestamp`), and the label the
// classifier gives its message.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/json_text.h"
#include "logclf/classifier.h"
#include "support/paths.h"
#include "support/run.h"
#include "support/running_server.h"

namespace logclf {
namespace {

using nlohmann::json;

testing::RunningServer& server() {
  static testing::RunningServer s;
  return s;
}

const Classifier& classifier() {
  static const Classifier c = Classifier::load_default();
  return c;
}

std::string shipper_body(const std::string& name) {
  return testing::read_text(testing::source_dir() / "tests/data/shippers" / name);
}

std::vector<std::string_view> elements(std::string_view array) {
  std::vector<std::pair<std::size_t, std::size_t>> spans;
  EXPECT_TRUE(io::find_elements(array, spans)) << array;
  std::vector<std::string_view> out;
  for (const auto& [begin, end] : spans) out.push_back(array.substr(begin, end - begin));
  return out;
}

std::vector<std::string_view> lines(std::string_view text) {
  std::vector<std::string_view> out;
  for (std::size_t start = 0; start < text.size();) {
    const std::size_t end = text.find('\n', start);
    if (end > start) out.push_back(text.substr(start, end - start));
    if (end == text.npos) break;
    start = end + 1;
  }
  return out;
}

// `answer` is `record` with each of its members' text unchanged, and predicted_label the classifier's label
// for the message under `message_key`.
void expect_enriched(std::string_view record, std::string_view answer, const std::string& message_key) {
  SCOPED_TRACE(std::string(record));
  std::vector<io::JsonMember> in, out;
  ASSERT_TRUE(io::find_members(record, in));
  ASSERT_TRUE(io::find_members(answer, out)) << answer;
  ASSERT_EQ(out.size(), in.size() + 1) << answer;
  for (std::size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(out[i].key, in[i].key);
    EXPECT_EQ(answer.substr(out[i].value_begin, out[i].value_end - out[i].value_begin),
              record.substr(in[i].value_begin, in[i].value_end - in[i].value_begin));
  }
  const json parsed = json::parse(answer);
  EXPECT_EQ(out.back().key, "predicted_label");
  EXPECT_EQ(parsed["predicted_label"], classifier().classify(parsed[message_key].get<std::string>()).label);
}

void expect_array_answered(const std::string& body, const std::string& message_key) {
  auto c = server().client();
  const auto r = c.Post("/v1/classify/json", body, "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->get_header_value("Logclf-Errors"), "0");
  const auto sent = elements(body), answered = elements(r->body);
  ASSERT_EQ(answered.size(), sent.size()) << r->body;
  for (std::size_t i = 0; i < sent.size(); ++i) expect_enriched(sent[i], answered[i], message_key);
}

void expect_lines_answered(const std::string& body, const std::string& message_key) {
  auto c = server().client();
  const auto r = c.Post("/v1/classify/ndjson", body, "application/x-ndjson");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const auto sent = lines(body), answered = lines(r->body);
  ASSERT_EQ(answered.size(), sent.size()) << r->body;
  for (std::size_t i = 0; i < sent.size(); ++i) expect_enriched(sent[i], answered[i], message_key);
}

// Vector's http sink with `encoding.codec: json` sends each batch as one JSON array of its log events.
TEST(Shippers, VectorHttpSinkJsonArray) { expect_array_answered(shipper_body("vector-http-json.json"), "message"); }

// ... and with `framing.method: newline_delimited`, one event per line.
TEST(Shippers, VectorHttpSinkNewlineDelimited) {
  expect_lines_answered(shipper_body("vector-http-ndjson.ndjson"), "message");
}

// Fluent Bit's http output with `format json`: an array of records, the message under `log`, the time as a
// double under `date` (json_date_key and json_date_format at their defaults).
TEST(Shippers, FluentBitHttpOutputJson) { expect_array_answered(shipper_body("fluent-bit-http-json.json"), "log"); }

// ... and with `format json_lines`.
TEST(Shippers, FluentBitHttpOutputJsonLines) {
  expect_lines_answered(shipper_body("fluent-bit-http-json-lines.ndjson"), "log");
}

// Logstash's http filter posts one event's body (`body_format => "json"`) and keeps the answer in
// `target_body`: one record in, that record with its label out.
TEST(Shippers, LogstashHttpFilterOneRecord) {
  const std::string body = shipper_body("logstash-http-filter.json");
  auto c = server().client();
  const auto r = c.Post("/v1/classify/json", body, "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  std::string_view record = body;
  while (!record.empty() && (record.back() == '\n' || record.back() == ' ')) record.remove_suffix(1);
  expect_enriched(record, r->body, "message");
}

// Fluentd's exec_filter output with `<format> @type json` writes each record as a JSON line to the command's
// standard input and parses its standard output (`<parse> @type json`): `logclf classify --format jsonl -`.
TEST(Shippers, FluentdExecFilterThroughTheCli) {
  const auto input = testing::source_dir() / "tests/data/shippers/fluentd-exec-filter.jsonl";
  const auto result = testing::run(testing::cli() + " classify -q --format jsonl - < '" + input.string() + "'");
  ASSERT_EQ(result.status, 0) << result.output;
  const std::string body = shipper_body("fluentd-exec-filter.jsonl");
  const auto sent = lines(body), answered = lines(result.output);
  ASSERT_EQ(answered.size(), sent.size()) << result.output;
  for (std::size_t i = 0; i < sent.size(); ++i) expect_enriched(sent[i], answered[i], "message");
}

// One bad record in a shipper's batch is answered in its place; the others are classified.
TEST(Shippers, ABadRecordInABatchIsAnsweredInItsPlace) {
  auto c = server().client();
  const auto r = c.Post("/v1/classify/json", R"([{"log": "User User7 logged in."}, {"date": 1.5}, "text"])",
                        "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->get_header_value("Logclf-Errors"), "2");
  const json answer = json::parse(r->body);
  ASSERT_EQ(answer.size(), 3u);
  EXPECT_EQ(answer[0]["predicted_label"], classifier().classify("User User7 logged in.").label);
  EXPECT_EQ(answer[1], json::parse(R"({"date": 1.5, "predicted_label": null,
                                        "error": "[1]: no field 'log_message', 'message', 'log' or 'msg'"})"));
  EXPECT_EQ(answer[2], json::parse(R"({"raw": "\"text\"", "predicted_label": null, "error": "[2]: not a JSON object"})"));
  const auto failed = c.Post("/v1/classify/json?on_error=fail", R"([{"log": "a"}, {"date": 1.5}])", "application/json");
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->status, 400);
  EXPECT_EQ(json::parse(failed->body)["error"], "[1]: no field 'log_message', 'message', 'log' or 'msg'");
  // ?message_key= names the field when it is none of the usual ones.
  const auto keyed = c.Post("/v1/classify/json?message_key=text&explain=true", R"([{"text": "Disk usage at 97% on /var"}])",
                            "application/json");
  ASSERT_TRUE(keyed);
  ASSERT_EQ(keyed->status, 200) << keyed->body;
  const Prediction truth = classifier().classify("Disk usage at 97% on /var");
  EXPECT_EQ(json::parse(keyed->body)[0]["predicted_label"], truth.label);
  EXPECT_EQ(json::parse(keyed->body)[0]["stage"], std::string(to_string(truth.stage)));
}

// Elastic Common Schema events (Logstash with ecs_compatibility, Filebeat) keep the raw line nested, under
// `event.original` or `log.original`: ?message_key= and --message-column take the dotted path.
TEST(Shippers, ADottedMessageKeyIsAPathIntoTheRecord) {
  const std::string records =
      R"({"@timestamp":"2026-12-07T08:00:00.000Z","event":{"original":"Disk usage at 97% on /var","dataset":"app"},"host":{"name":"web-1"}})" "\n"
      R"({"@timestamp":"2026-12-07T08:00:01.000Z","event":{"original":"User User7 logged in."},"host":{"name":"web-2"}})" "\n";
  auto c = server().client();
  const auto r = c.Post("/v1/classify/ndjson?message_key=event.original", records, "application/x-ndjson");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const auto answered = lines(r->body);
  ASSERT_EQ(answered.size(), 2u) << r->body;
  for (const std::string_view line : answered) {
    const json record = json::parse(line);
    EXPECT_EQ(record["predicted_label"], classifier().classify(record["event"]["original"].get<std::string>()).label);
    EXPECT_TRUE(record["host"].is_object()) << line;
  }
  const testing::TempDir dir;
  const std::string input = dir / "ecs.jsonl";
  std::ofstream(input, std::ios::binary) << records;
  const auto cli = testing::run(testing::cli() + " classify -q --message-column event.original '" + input + "'");
  ASSERT_EQ(cli.status, 0) << cli.output;
  EXPECT_EQ(cli.output, r->body);
}

TEST(Shippers, BodiesThatAreNoRecordsAre400) {
  auto c = server().client();
  for (const std::string body : {"42", "\"x\"", "[1, 2", ""}) {
    const auto r = c.Post("/v1/classify/json", body, "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << body << " → " << r->body;
  }
}

}  // namespace
}  // namespace logclf
