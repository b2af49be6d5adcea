// POST /v1/logs: OTLP/HTTP requests in the JSON encoding, built as the OpenTelemetry Collector's otlphttp
// exporter writes them (ExportLogsServiceRequest), and in the protobuf encoding, built with the protobuf
// library from the OpenTelemetry .proto files; classified and checked against the classifier called
// directly, with everything else in the request kept.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "logclf/classifier.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
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
  // An empty request is a valid one.
  EXPECT_EQ(post_logs(json::object()).status, 200);
}

// ---- the protobuf encoding --------------------------------------------------------------------------

namespace pb_common = opentelemetry::proto::common::v1;
namespace pb_logs = opentelemetry::proto::logs::v1;
namespace pb_collector = opentelemetry::proto::collector::logs::v1;

pb_collector::ExportLogsServiceRequest protobuf_request(const std::string& service_name,
                                                        const std::vector<std::string>& messages) {
  pb_collector::ExportLogsServiceRequest request;
  pb_logs::ResourceLogs* rl = request.add_resource_logs();
  pb_common::KeyValue* name = rl->mutable_resource()->add_attributes();
  name->set_key("service.name");
  name->mutable_value()->set_string_value(service_name);
  pb_logs::ScopeLogs* sl = rl->add_scope_logs();
  sl->mutable_scope()->set_name("app");
  for (const std::string& m : messages) {
    pb_logs::LogRecord* r = sl->add_log_records();
    r->set_time_unix_nano(1733544000123456789ull);
    r->set_severity_number(pb_logs::SEVERITY_NUMBER_INFO);
    r->set_severity_text("INFO");
    r->mutable_body()->set_string_value(m);
    pb_common::KeyValue* host = r->add_attributes();
    host->set_key("host.name");
    host->mutable_value()->set_string_value("web-1");
  }
  return request;
}

Response post_protobuf(const google::protobuf::Message& message, Fields query = {}) {
  Request r;
  r.method = "POST";
  r.path = "/v1/logs";
  r.query = std::move(query);
  r.headers = {{"Content-Type", "application/x-protobuf"}};
  r.body = message.SerializeAsString();
  return service().handle(r);
}

const pb_common::AnyValue* find_attribute(const pb_logs::LogRecord& record, const std::string& key) {
  for (const pb_common::KeyValue& kv : record.attributes())
    if (kv.key() == key) return &kv.value();
  return nullptr;
}

TEST(OtlpLogsProtobuf, EnrichAddsTheClassificationAndTheRequestRoundTrips) {
  const std::vector<std::string> messages = {"Failed password for invalid user admin from 198.51.100.23 port 52114 ssh2",
                                             "Disk usage at 97% on /var", "User User1042 logged in."};
  const auto request = protobuf_request("sshd", messages);
  const Response res = post_protobuf(request, {{"enrich", "true"}});
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.content_type, "application/x-protobuf");
  pb_collector::ExportLogsServiceRequest answer;
  ASSERT_TRUE(answer.ParseFromString(res.body));
  const auto& records = answer.resource_logs(0).scope_logs(0).log_records();
  ASSERT_EQ(records.size(), static_cast<int>(messages.size()));
  for (int i = 0; i < records.size(); ++i) {
    SCOPED_TRACE(messages[i]);
    const Prediction truth = classifier().classify(messages[i], "sshd");
    ASSERT_NE(find_attribute(records[i], "log.classification"), nullptr);
    EXPECT_EQ(find_attribute(records[i], "log.classification")->string_value(), truth.label);
    EXPECT_EQ(find_attribute(records[i], "log.classification.stage")->string_value(), to_string(truth.stage));
    EXPECT_NEAR(find_attribute(records[i], "log.classification.confidence")->double_value(), truth.confidence, 5.01e-5);
    // With the three attributes removed again, the record is the one sent.
    pb_logs::LogRecord stripped = records[i];
    stripped.mutable_attributes()->DeleteSubrange(1, 3);
    EXPECT_EQ(stripped.SerializeAsString(), request.resource_logs(0).scope_logs(0).log_records(i).SerializeAsString());
  }
  EXPECT_EQ(answer.resource_logs(0).resource().SerializeAsString(), request.resource_logs(0).resource().SerializeAsString());
}

TEST(OtlpLogsProtobuf, TheAnswerIsAnExportLogsServiceResponseWithThePartialSuccess) {
  auto request = protobuf_request("app", {"Disk usage at 97% on /var", "x"});
  request.mutable_resource_logs(0)->mutable_scope_logs(0)->mutable_log_records(1)->mutable_body()->set_int_value(7);
  const Response res = post_protobuf(request);
  ASSERT_EQ(res.status, 200) << res.body;
  pb_collector::ExportLogsServiceResponse answer;
  ASSERT_TRUE(answer.ParseFromString(res.body));
  EXPECT_EQ(answer.partial_success().rejected_log_records(), 1);
  EXPECT_EQ(answer.partial_success().error_message(),
            "resourceLogs[0].scopeLogs[0].logRecords[1]: body is not a string (body.stringValue)");
  // All classified: an empty response.
  const Response ok = post_protobuf(protobuf_request("app", {"Disk usage at 97% on /var"}));
  ASSERT_EQ(ok.status, 200);
  ASSERT_TRUE(answer.ParseFromString(ok.body));
  EXPECT_FALSE(answer.has_partial_success());
}

TEST(OtlpLogsProtobuf, BytesThatAreNoRequestAre400) {
  Request r;
  r.method = "POST";
  r.path = "/v1/logs";
  r.headers = {{"Content-Type", "application/x-protobuf"}};
  r.body = "\xff\xff\xff not protobuf";
  EXPECT_EQ(service().handle(r).status, 400);
  r.headers = {{"Content-Type", "text/plain"}};
  EXPECT_EQ(service().handle(r).status, 415);
}

}  // namespace
}  // namespace logclf::server
