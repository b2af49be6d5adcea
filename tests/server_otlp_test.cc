// POST /v1/logs: OTLP/HTTP requests in the JSON encoding, built as the OpenTelemetry Collector's otlphttp
// exporter writes them (ExportLogsServiceRequest), classified and checked against the classifier called
// directly, with everything else in the request kept.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "logclf/classifier.h"
#include "server/service.h"

namespace logclf::server {
namespace {

using nlohmann::json;

const Classifier& classifier() {
  static const Classifier c = Classifier::load_default();
  return c;
}

Service& service() {
  static Service s(Classifier::load_default(), ServeOptions{});
  return s;
}

Response post_logs(const json& body, Fields query = {}, std::string type = "application/json") {
  Request r;
  r.method = "POST";
  r.path = "/v1/logs";
  r.query = std::move(query);
  r.headers = {{"Content-Type", type}};
  r.body = body.dump();
  return service().handle(r);
}

json record(const std::string& message, json extra = json::object()) {
  json r = {{"timeUnixNano", "1733544000123456789"}, {"severityNumber", 9}, {"severityText", "INFO"},
            {"body", {{"stringValue", message}}},
            {"attributes", json::array({{{"key", "host.name"}, {"value", {{"stringValue", "web-1"}}}}})},
            {"traceId", "5b8efff798038103d269b633813fc60c"}};
  r.update(extra);
  return r;
}

json request(const std::string& service_name, json records) {
  return {{"resourceLogs",
           json::array({{{"resource", {{"attributes", json::array({{{"key", "service.name"}, {"value", {{"stringValue", service_name}}}}})}}},
                         {"scopeLogs", json::array({{{"scope", {{"name", "app"}}}, {"logRecords", std::move(records)}}})}}})}};
}

std::string attribute(const json& record, const std::string& key) {
  for (const json& kv : record["attributes"])
    if (kv["key"] == key) return kv["value"].contains("stringValue") ? kv["value"]["stringValue"].get<std::string>()
                                                                      : kv["value"].dump();
  return "(absent)";
}

TEST(OtlpLogs, RecordsAreClassifiedAndTheAnswerIsAnExportLogsServiceResponse) {
  const json body = request("sshd", json::array({record("Failed password for invalid user admin from 198.51.100.23 port 52114 ssh2"),
                                                  record("Disk usage at 97% on /var")}));
  const Response res = post_logs(body);
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(json::parse(res.body), json::object());  // nothing rejected: an empty response
}

TEST(OtlpLogs, EnrichAddsTheClassificationAndKeepsEverythingElse) {
  const std::vector<std::string> messages = {"Failed password for invalid user admin from 198.51.100.23 port 52114 ssh2",
                                             "Disk usage at 97% on /var", "User User1042 logged in."};
  json records = json::array();
  for (const std::string& m : messages) records.push_back(record(m));
  // An attribute of the name it sets is replaced, not repeated.
  records[2]["attributes"].push_back({{"key", "log.classification"}, {"value", {{"stringValue", "stale"}}}});
  const json body = request("sshd", records);
  const Response res = post_logs(body, {{"enrich", "1"}});
  ASSERT_EQ(res.status, 200) << res.body;
  const json answer = json::parse(res.body);
  const json& out = answer["resourceLogs"][0]["scopeLogs"][0]["logRecords"];
  ASSERT_EQ(out.size(), messages.size());
  for (std::size_t i = 0; i < messages.size(); ++i) {
    SCOPED_TRACE(messages[i]);
    const Prediction truth = classifier().classify(messages[i], "sshd");  // service.name is the source
    EXPECT_EQ(attribute(out[i], "log.classification"), truth.label);
    EXPECT_EQ(attribute(out[i], "log.classification.stage"), std::string(to_string(truth.stage)));
    EXPECT_NEAR(std::stod(attribute(out[i], "log.classification.confidence").substr(15)), truth.confidence, 5.01e-5);
    EXPECT_EQ(attribute(out[i], "host.name"), "web-1");
    EXPECT_EQ(out[i]["attributes"].size(), 4u);  // host.name and the three added (the stale one replaced)
    // Every other field as it was sent (timeUnixNano stays a string).
    for (const char* key : {"timeUnixNano", "severityNumber", "severityText", "body", "traceId"})
      EXPECT_EQ(out[i][key], body["resourceLogs"][0]["scopeLogs"][0]["logRecords"][i][key]) << key;
  }
  EXPECT_EQ(answer["resourceLogs"][0]["resource"], body["resourceLogs"][0]["resource"]);
  EXPECT_EQ(answer["resourceLogs"][0]["scopeLogs"][0]["scope"], body["resourceLogs"][0]["scopeLogs"][0]["scope"]);
}

TEST(OtlpLogs, RecordsWithoutAStringMessageAreRejectedAsAPartialSuccess) {
  json records = json::array({record("Disk usage at 97% on /var"), record("x"), record("y")});
  records[1]["body"] = {{"kvlistValue", {{"values", json::array()}}}};
  records[2].erase("body");
  const Response res = post_logs(request("app", records));
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(json::parse(res.body),
            json::parse(R"j({"partialSuccess": {"rejectedLogRecords": "2", "errorMessage":
                "resourceLogs[0].scopeLogs[0].logRecords[1]: body is not a string (body.stringValue) (and 1 more)"}})j"));
  EXPECT_NE(std::find(res.headers.begin(), res.headers.end(), std::pair<std::string, std::string>("Logclf-Errors", "2")),
            res.headers.end());
}

TEST(OtlpLogs, TheMessageCanComeFromAnAttribute) {
  json r = record("ignored");
  r["attributes"].push_back({{"key", "log.original"}, {"value", {{"stringValue", "User User1042 logged in."}}}});
  const Response res = post_logs(request("app", json::array({r})), {{"message_attribute", "log.original"}, {"enrich", "true"}});
  ASSERT_EQ(res.status, 200) << res.body;
  const json out = json::parse(res.body)["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0];
  EXPECT_EQ(attribute(out, "log.classification"), classifier().classify("User User1042 logged in.", "app").label);
}

TEST(OtlpLogs, WhatIsNoExportLogsServiceRequestIsRefused) {
  EXPECT_EQ(post_logs(json::array()).status, 400);
  EXPECT_EQ(post_logs({{"resourceLogs", 3}}).status, 400);
  EXPECT_EQ(post_logs({{"resourceLogs", json::array({{{"scopeLogs", {{"a", 1}}}}})}}).status, 400);
  const Response protobuf = post_logs(json::object(), {}, "application/x-protobuf");
  EXPECT_EQ(protobuf.status, 415);
  EXPECT_NE(json::parse(protobuf.body)["error"].get<std::string>().find("encoding: json"), std::string::npos);
  // An empty request is a valid one.
  EXPECT_EQ(post_logs(json::object()).status, 200);
}

}  // namespace
}  // namespace logclf::server
