// The HTTP service without sockets: the micro-batcher, the metrics and the handlers called directly.
#include <sys/resource.h>
#include <gtest/gtest.h>
#include <fstream>
#include <sstream>
#include <map>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "logclf/classifier.h"
#include "server/batcher.h"
#include "server/metrics.h"
#include "server/service.h"

namespace logclf::server {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using namespace std::string_literals;

// ---- MicroBatcher ---------------------------------------------------------------------------------

// A slow batch function whose answer is computed from each line alone ("label of X" = "X!"), so that any
// mix-up between requests or within a request shows; it records the size of every batch.
struct FakeEncoder {
  std::mutex mutex;
  std::vector<std::size_t> batch_sizes;
  std::chrono::milliseconds delay{3};

  std::vector<Prediction> operator()(std::span<const LogLine> lines) {
    std::this_thread::sleep_for(delay);
    std::vector<Prediction> out;
    for (const LogLine& l : lines) {
      Prediction p;
      p.label = std::string(l.message) + "!";
      p.rule = std::string(l.source);
      out.push_back(p);
    }
    std::lock_guard lock(mutex);
    batch_sizes.push_back(lines.size());
    return out;
  }
};

TEST(ServerBatcher, ConcurrentRequestsShareBatchesAndGetTheirOwnResultsInOrder) {
  FakeEncoder fake;
  MicroBatcher batcher([&](std::span<const LogLine> lines) { return fake(lines); }, 2ms, 16);
  constexpr int kThreads = 12;
  constexpr int kRequests = 20;
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < kRequests; ++r) {
        // Requests of 1 to 3 lines, each line unique to its thread, request and position.
        std::vector<std::string> texts, sources;
        for (int i = 0; i <= (t + r) % 3; ++i) {
          texts.push_back("t" + std::to_string(t) + " r" + std::to_string(r) + " i" + std::to_string(i));
          sources.push_back("source of " + texts.back());
        }
        std::vector<LogLine> lines;
        for (std::size_t i = 0; i < texts.size(); ++i) lines.push_back({texts[i], sources[i]});
        const std::vector<Prediction> got = batcher.classify(lines);
        if (got.size() != texts.size()) {
          ++wrong;
          continue;
        }
        for (std::size_t i = 0; i < texts.size(); ++i)
          if (got[i].label != texts[i] + "!" || got[i].rule != sources[i]) ++wrong;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong, 0);
  std::size_t lines = 0, largest = 0;
  for (std::size_t n : fake.batch_sizes) {
    lines += n;
    largest = std::max(largest, n);
    EXPECT_LE(n, 16u);
  }
  std::size_t expected_lines = 0;
  for (int t = 0; t < kThreads; ++t)
    for (int r = 0; r < kRequests; ++r) expected_lines += static_cast<std::size_t>((t + r) % 3 + 1);
  EXPECT_EQ(lines, expected_lines);
  // Twelve clients against a 3 ms batch: requests must have been gathered, far fewer calls than requests.
  EXPECT_GT(largest, 3u);
  EXPECT_LT(fake.batch_sizes.size(), static_cast<std::size_t>(kThreads * kRequests) / 2);
}

TEST(ServerBatcher, ALoneRequestWaitsAboutTheBatchWindowOnly) {
  FakeEncoder fake;
  fake.delay = 0ms;
  MicroBatcher batcher([&](std::span<const LogLine> lines) { return fake(lines); }, 20ms, 64);
  const LogLine line{"alone", ""};
  const auto start = std::chrono::steady_clock::now();
  const auto got = batcher.classify(std::span(&line, 1));
  const auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].label, "alone!");
  EXPECT_GE(waited, 15ms);
  EXPECT_LT(waited, 2s);
}

TEST(ServerBatcher, AFullBatchRunsWithoutWaitingForTheWindow) {
  FakeEncoder fake;
  fake.delay = 0ms;
  MicroBatcher batcher([&](std::span<const LogLine> lines) { return fake(lines); }, 10s, 4);
  std::vector<LogLine> lines(4, LogLine{"x", ""});
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(batcher.classify(lines).size(), 4u);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST(ServerBatcher, AFailingBatchFailsItsRequestsOnly) {
  std::atomic<int> calls{0};
  MicroBatcher batcher(
      [&](std::span<const LogLine> lines) {
        ++calls;
        if (lines.size() == 1 && lines[0].message == "boom") throw Error("encoder failed");
        Prediction ok;
        ok.label = "ok";
        return std::vector<Prediction>(lines.size(), ok);
      },
      0ms, 1);
  const LogLine bad{"boom", ""}, good{"fine", ""};
  EXPECT_THROW(batcher.classify(std::span(&bad, 1)), Error);
  const auto got = batcher.classify(std::span(&good, 1));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].label, "ok");
  EXPECT_EQ(calls, 2);
}

// ---- Metrics --------------------------------------------------------------------------------------

TEST(ServerMetrics, PrometheusTextWithCumulativeBuckets) {
  Metrics m({"/a", "other"}, {"Error", "User Action"});
  m.observe_request(0, "POST", 200, 0.0003);  // bucket 0.0005
  m.observe_request(0, "POST", 200, 0.004);   // bucket 0.005
  m.observe_request(0, "GET", 405, 20.0);     // +Inf only
  m.observe_request(7, "BREW", 599, 0.001);   // unknown route, method and status
  m.count_line("Error", Stage::model);
  m.count_line("Error", Stage::rule);
  m.count_line("Something else", Stage::uncertain);
  const std::string text = m.text();
  auto has = [&](const std::string& line) { return text.find(line + "\n") != std::string::npos; };
  EXPECT_TRUE(has(R"(logclf_http_requests_total{path="/a",method="POST",status="200"} 2)")) << text;
  EXPECT_TRUE(has(R"(logclf_http_requests_total{path="/a",method="GET",status="405"} 1)")) << text;
  EXPECT_TRUE(has(R"(logclf_http_requests_total{path="other",method="other",status="other"} 1)")) << text;
  EXPECT_TRUE(has(R"(logclf_http_request_duration_seconds_bucket{path="/a",le="0.00025"} 0)")) << text;
  EXPECT_TRUE(has(R"(logclf_http_request_duration_seconds_bucket{path="/a",le="0.0005"} 1)")) << text;
  EXPECT_TRUE(has(R"(logclf_http_request_duration_seconds_bucket{path="/a",le="0.005"} 2)")) << text;
  EXPECT_TRUE(has(R"(logclf_http_request_duration_seconds_bucket{path="/a",le="10"} 2)")) << text;
  EXPECT_TRUE(has(R"(logclf_http_request_duration_seconds_bucket{path="/a",le="+Inf"} 3)")) << text;
  EXPECT_TRUE(has(R"(logclf_http_request_duration_seconds_count{path="/a"} 3)")) << text;
  EXPECT_TRUE(has(R"(logclf_http_request_duration_seconds_sum{path="/a"} 20.0043)")) << text;
  EXPECT_TRUE(has(R"(logclf_http_errors_total{path="/a"} 1)")) << text;
  EXPECT_TRUE(has(R"(logclf_http_errors_total{path="other"} 1)")) << text;
  EXPECT_TRUE(has(R"(logclf_lines_total{label="Error"} 2)")) << text;
  EXPECT_TRUE(has(R"(logclf_lines_total{label="User Action"} 0)")) << text;
  EXPECT_TRUE(has(R"(logclf_lines_total{label="other"} 1)")) << text;
  EXPECT_TRUE(has(R"(logclf_lines_by_stage_total{stage="rule"} 1)")) << text;
  EXPECT_TRUE(has(R"(logclf_lines_by_stage_total{stage="model"} 1)")) << text;
  EXPECT_TRUE(has(R"(logclf_lines_by_stage_total{stage="uncertain"} 1)")) << text;
  EXPECT_TRUE(has("# TYPE logclf_http_request_duration_seconds histogram")) << text;
}

TEST(ServerMetrics, LabelValuesAreEscaped) {
  Metrics m({"other"}, {"a\"b\\c\nd"});
  m.count_line("a\"b\\c\nd", Stage::model);
  EXPECT_NE(m.text().find(R"(logclf_lines_total{label="a\"b\\c\nd"} 1)"), std::string::npos) << m.text();
}

// ---- Service::handle ------------------------------------------------------------------------------

Request post(std::string path, std::string body) {
  Request r;
  r.method = "POST";
  r.path = std::move(path);
  r.body = std::move(body);
  return r;
}

TEST(ServerService, SingleMessagesThroughTheMicroBatcherMatchTheClassifier) {
  const Classifier classifier = Classifier::load_default();
  ServeOptions options;
  options.batching = MicroBatching::always;
  options.batch_wait = 1ms;
  Service service(classifier, options);
  const std::vector<std::string> messages = {
      "User User12 logged out.", "Backup completed successfully.",
      "nova.osapi_compute.wsgi.server GET /v2/servers/detail HTTP/1.1 status: 200 len: 1583 time: 0.19",
      "Disk usage at 97% on /var", "Multiple login failures occurred on user 6454 account"};
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (std::size_t t = 0; t < messages.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        const Response res =
            service.handle(post("/v1/classify", json{{"logs", {{{"log_message", messages[t]}}}}}.dump()));
        const json doc = json::parse(res.body);
        const Prediction truth = classifier.classify(messages[t]);
        const json& r = doc["results"][0];
        // The confidence is written with four decimals, as the CLI writes it.
        if (res.status != 200 || r["predicted_label"] != truth.label || r["stage"] != to_string(truth.stage) ||
            std::abs(r["confidence"].get<double>() - truth.confidence) > 5.01e-5)
          ++wrong;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong, 0);
  int by_rule = 0;
  for (const std::string& m : messages) by_rule += classifier.classify(m).stage == Stage::rule ? 10 : 0;
  EXPECT_NE(service.metrics().text().find("logclf_lines_by_stage_total{stage=\"rule\"} " + std::to_string(by_rule) + "\n"),
            std::string::npos)
      << service.metrics().text();
}

// The text a streamed response writes.
std::string streamed(const Response& res) {
  std::string text;
  EXPECT_TRUE(res.stream);
  if (res.stream) {
    EXPECT_TRUE(res.stream([&](std::string_view piece) { return text.append(piece), true; }));
  }
  return text;
}

// Line `i` (from 0) of a streamed NDJSON answer, parsed.
json answer_line(const std::string& text, std::size_t i) {
  std::size_t start = 0;
  for (; i > 0; --i) start = text.find('\n', start) + 1;
  return json::parse(text.substr(start, text.find('\n', start) - start));
}

TEST(ServerService, NdjsonReadInOneBytePiecesAnswersABadLineInItsPlace) {
  Service service(Classifier::load_default(), ServeOptions{});
  const std::string body = "{\"log_message\": \"a\"}\n\n{\"message\": \"b\"}\r\n{\"log_message\": \"c\" \n{}\n";
  Request request = post("/v1/classify/ndjson", "");
  request.read_body = [&](const ChunkSink& sink) {
    for (const char c : body)
      if (!sink(std::string_view(&c, 1))) return BodyRead::stopped;
    return BodyRead::complete;
  };
  const Response res = service.handle(request);
  EXPECT_EQ(res.status, 200);
  const std::string text = streamed(res);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 4);  // the blank line 2 has no answer
  EXPECT_EQ(answer_line(text, 0)["log_message"], "a");
  EXPECT_EQ(answer_line(text, 1)["message"], "b");
  const json broken = answer_line(text, 2);
  EXPECT_EQ(broken["raw"], "{\"log_message\": \"c\"");
  EXPECT_TRUE(broken["predicted_label"].is_null());
  EXPECT_TRUE(broken["error"].get<std::string>().starts_with("line 4: invalid JSON: ")) << broken;
  EXPECT_EQ(answer_line(text, 3), json::parse(R"j({"predicted_label": null, "error": "line 5: no field 'log_message', 'message', 'log' or 'msg'"})j"));
}

TEST(ServerService, NdjsonStreamsInChunksInOrder) {
  const Classifier classifier = Classifier::load_default();
  Service service(classifier, ServeOptions{});
  std::string body;
  std::vector<std::string> messages;
  for (int i = 0; i < 700; ++i) {
    messages.push_back(i % 2 ? "User User" + std::to_string(i) + " logged in." : "Disk usage at " + std::to_string(i % 100) + "% on /srv");
    body += json{{"n", i}, {"log_message", messages.back()}}.dump() + "\n";
  }
  Request request = post("/v1/classify/ndjson", "");
  std::size_t offset = 0;
  request.read_body = [&](const ChunkSink& sink) {
    while (offset < body.size()) {
      const std::size_t n = std::min<std::size_t>(1000, body.size() - offset);
      if (!sink(std::string_view(body).substr(offset, n))) return BodyRead::stopped;
      offset += n;
    }
    return BodyRead::complete;
  };
  Response res = service.handle(request);
  ASSERT_EQ(res.status, 200) << res.body;
  ASSERT_TRUE(res.stream);
  std::vector<std::string> pieces;
  std::size_t read_at_first_answer = 0;
  ASSERT_TRUE(res.stream([&](std::string_view piece) {
    if (pieces.empty()) read_at_first_answer = offset;
    pieces.emplace_back(piece);
    return true;
  }));
  // Each piece of the body read is answered before the next is read: the first answer is written while the
  // first 1000 bytes are being taken (the reader's offset has not moved on yet).
  EXPECT_EQ(read_at_first_answer, 0u);
  EXPECT_GT(pieces.size(), 30u);
  std::string all;
  for (const auto& p : pieces) all += p;
  std::size_t line = 0;
  for (std::size_t start = 0; start < all.size(); ++line) {
    const std::size_t end = all.find('\n', start);
    const json doc = json::parse(all.substr(start, end - start));
    EXPECT_EQ(doc["n"], line);
    EXPECT_EQ(doc["predicted_label"], classifier.classify(messages[line]).label);
    start = end + 1;
  }
  EXPECT_EQ(line, messages.size());
}

TEST(ServerService, AStreamStopsWhenTheClientIsGone) {
  Service service(Classifier::load_default(), ServeOptions{});
  std::string body;
  for (int i = 0; i < 600; ++i) body += "{\"log_message\": \"x\"}\n";
  Response res = service.handle(post("/v1/classify/ndjson", body));
  ASSERT_TRUE(res.stream);
  int writes = 0;
  EXPECT_FALSE(res.stream([&](std::string_view) { return ++writes < 1; }));
  EXPECT_EQ(writes, 1);
}

TEST(ServerService, RecordsKeepTheirFieldsBadOnesAreAnsweredInPlaceAndNestingIsBounded) {
  const Classifier classifier = Classifier::load_default();
  Service service(classifier, ServeOptions{});
  const Response extra = service.handle(post(
      "/v1/classify", R"({"other": [1, {"a": [2]}], "logs": [{"log_message": "Backup completed successfully.",
                          "tags": {"env": ["prod"]}, "source": "db"}], "trace": "x"})"));
  ASSERT_EQ(extra.status, 200) << extra.body;
  const json doc = json::parse(extra.body);
  EXPECT_EQ(doc["results"][0]["predicted_label"], classifier.classify("Backup completed successfully.", "db").label);
  EXPECT_EQ(doc["results"][0]["source"], "db");
  EXPECT_EQ(doc["results"][0]["tags"], json::parse(R"({"env": ["prod"]})"));
  EXPECT_EQ(doc["errors"], 0);

  const std::string deep = std::string(40, '[') + std::string(40, ']');
  const Response nested = service.handle(post("/v1/classify", R"({"logs": [], "junk": )" + deep + "}"));
  EXPECT_EQ(nested.status, 400);
  EXPECT_EQ(json::parse(nested.body)["error"], "JSON in the request body nested deeper than 32 levels");

  // A bad record is answered in its place, and counted; with ?on_error=fail the request fails instead.
  const std::string two = R"({"logs": [{"log_message": "a"}, [1, 2]]})";
  const Response array_entry = service.handle(post("/v1/classify", two));
  EXPECT_EQ(array_entry.status, 200);
  const json answered = json::parse(array_entry.body);
  EXPECT_EQ(answered["results"][1], json::parse(R"({"raw": "[1, 2]", "predicted_label": null, "stage": null,
      "rule": null, "confidence": null, "error": "logs[1]: not a JSON object"})"));
  EXPECT_EQ(answered["results"][0]["predicted_label"], classifier.classify("a").label);
  EXPECT_EQ(answered["errors"], 1);
  Request fail = post("/v1/classify", two);
  fail.query = {{"on_error", "fail"}};
  const Response failed = service.handle(fail);
  EXPECT_EQ(failed.status, 400);
  EXPECT_EQ(json::parse(failed.body)["error"], "logs[1]: not a JSON object");

  const Response message_object = service.handle(post("/v1/classify", R"({"logs": [{"log_message": {"a": 1}}]})"));
  EXPECT_EQ(message_object.status, 200);
  EXPECT_EQ(json::parse(message_object.body)["results"][0]["error"], "logs[0]: field 'log_message' is not a string");

  // NDJSON lines are read as the CLI reads JSON lines, without building what they nest.
  const Response ndjson = service.handle(post("/v1/classify/ndjson", "{\"log_message\": \"a\"}\n{\"x\": " + deep + "}\n"));
  EXPECT_EQ(ndjson.status, 200);
  EXPECT_EQ(answer_line(streamed(ndjson), 1)["error"], "line 2: no field 'log_message', 'message', 'log' or 'msg'");
  const Response ndjson_array = service.handle(post("/v1/classify/ndjson", "[1]\n"));
  EXPECT_EQ(answer_line(streamed(ndjson_array), 0), json::parse(R"({"raw": "[1]", "predicted_label": null, "error": "line 1: not a JSON object"})"));
  const Response ndjson_source = service.handle(post("/v1/classify/ndjson", "{\"log_message\": \"a\", \"source\": [1]}\n"));
  EXPECT_EQ(answer_line(streamed(ndjson_source), 0)["error"], "line 1: field 'source' is not a string");
}

TEST(ServerService, ErrorsQuotingInvalidUtf8StayValidJson) {
  Service service(Classifier::load_default(), ServeOptions{});
  const Response res = service.handle(post("/v1/classify", "{\"logs\": [\"\xff\xfe\"]}"));
  EXPECT_EQ(res.status, 400);
  EXPECT_TRUE(json::parse(res.body)["error"].is_string()) << res.body;
}

TEST(ServerService, AnErrorQuotingPartOfACharacterStaysValidUtf8) {
  // The parser's message quotes the last bytes it read, which can end inside the U+FFFD an invalid byte
  // became; the answer must stay valid JSON (found by the JSON fuzzer).
  Service service(Classifier::load_default(), ServeOptions{});
  const std::string line = "{\"log_message\": \"a\", \"n\"\xba [1]}";
  const Response ndjson = service.handle(post("/v1/classify/ndjson", line + "\n"));
  ASSERT_EQ(ndjson.status, 200);
  const std::string text = streamed(ndjson);
  const json answer = json::parse(text.substr(0, text.find('\n')), nullptr, false);
  ASSERT_TRUE(answer.is_object()) << text;
  EXPECT_TRUE(answer["predicted_label"].is_null());
  EXPECT_TRUE(answer["error"].get<std::string>().starts_with("line 1: invalid JSON")) << answer;
  // A JSON body with it is no JSON at all: refused whole, in valid JSON too.
  const Response array = service.handle(post("/v1/classify/json", "[" + line + "]"));
  EXPECT_EQ(array.status, 400);
  EXPECT_TRUE(json::parse(array.body, nullptr, false).is_object()) << array.body;
}

TEST(ServerService, ReadyUntilTheServerStops) {
  Service service(Classifier::load_default(), ServeOptions{});
  Request ready;
  ready.method = "GET";
  ready.path = "/ready";
  EXPECT_EQ(service.handle(ready).status, 200);
  EXPECT_EQ(json::parse(service.handle(ready).body)["status"], "ready");
  service.begin_stopping();
  EXPECT_EQ(service.handle(ready).status, 503);
  EXPECT_EQ(json::parse(service.handle(ready).body)["status"], "stopping");
}

// The process_* series agree with what the kernel reports to this process by other means.
TEST(ServerService, MetricsHaveTheProcessSeriesAndTheBuildInfo) {
  Service service(Classifier::load_default(), ServeOptions{});
  Request scrape;
  scrape.method = "GET";
  scrape.path = "/metrics";
  const std::string text = service.handle(scrape).body;
  std::map<std::string, double> values;
  std::map<std::string, std::string> types;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("# TYPE ")) {
      const auto name_end = line.find(' ', 7);
      types[line.substr(7, name_end - 7)] = line.substr(name_end + 1);
    } else if (!line.starts_with("#") && line.starts_with("process_")) {
      values[line.substr(0, line.find(' '))] = std::stod(line.substr(line.find(' ') + 1));
    }
  }
  for (const char* name : {"process_cpu_seconds_total", "process_open_fds", "process_max_fds",
                           "process_virtual_memory_bytes", "process_resident_memory_bytes", "process_start_time_seconds"})
    ASSERT_TRUE(values.contains(name)) << name << "\n" << text;
  EXPECT_EQ(types["process_cpu_seconds_total"], "counter");
  EXPECT_EQ(types["process_resident_memory_bytes"], "gauge");

  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  const double cpu = usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 + usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
  EXPECT_NEAR(values["process_cpu_seconds_total"], cpu, 0.1);
  std::ifstream status("/proc/self/status");
  double rss_kb = 0;
  for (std::string line; std::getline(status, line);)
    if (line.starts_with("VmRSS:")) rss_kb = std::stod(line.substr(6));
  EXPECT_NEAR(values["process_resident_memory_bytes"], rss_kb * 1024, rss_kb * 1024 * 0.2);
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  EXPECT_EQ(values["process_max_fds"], static_cast<double>(limit.rlim_cur));
  EXPECT_GE(values["process_open_fds"], 3);
  const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_LE(values["process_start_time_seconds"], now + 1);
  EXPECT_GT(values["process_start_time_seconds"], now - 24 * 3600);
  EXPECT_NE(text.find("logclf_build_info{version=\"" + std::string(version()) + "\"} 1\n"), std::string::npos);
}

TEST(ServerService, ANulByteIsNotTheEndOfTheJson) {
  // nlohmann's parser would stop at the NUL and accept the line, whose text then is not JSON.
  Service service(Classifier::load_default(), ServeOptions{});
  const Response ndjson = service.handle(post("/v1/classify/ndjson", "{\"log_message\": \"a\"}\t\0{\"x\": 1}\n"s));
  EXPECT_EQ(answer_line(streamed(ndjson), 0)["error"], "line 1: invalid JSON: NUL byte at column 22");
  const Response classify = service.handle(post("/v1/classify", "{\"logs\": []}\n\0 trailing"s));
  EXPECT_EQ(classify.status, 400);
  EXPECT_EQ(json::parse(classify.body)["error"], "invalid JSON in the request body at line 2, column 1: NUL byte");
}

TEST(ServerService, NumbersTooLargeAre400) {
  Service service(Classifier::load_default(), ServeOptions{});
  const Response classify = service.handle(post("/v1/classify", R"({"logs": [], "n": 9E999})"));
  EXPECT_EQ(classify.status, 400);
  EXPECT_EQ(json::parse(classify.body)["error"], "invalid JSON in the request body: number overflow parsing '9E999'");
  const Response ndjson = service.handle(post("/v1/classify/ndjson", "{\"log_message\": \"a\", \"n\": 1e400}\n"));
  EXPECT_EQ(answer_line(streamed(ndjson), 0)["error"], "line 1: invalid JSON: number overflow parsing '1e400'");
}

TEST(ServerService, BodiesOverTheLimitAre413) {
  ServeOptions options;
  options.max_body = 100;
  Service service(Classifier::load_default(), options);
  EXPECT_EQ(service.handle(post("/v1/classify", std::string(101, ' '))).status, 413);
  EXPECT_EQ(service.handle(post("/v1/classify/ndjson", std::string(101, '\n'))).status, 413);
  Request multipart = post("/v1/classify/csv", "");
  multipart.multipart = true;
  multipart.files.push_back({"file", "a.csv", "text/csv", "log_message\n" + std::string(95, 'x')});
  EXPECT_EQ(service.handle(multipart).status, 413);
}

TEST(ServerService, RoutesAreAnsweredBeforeTheBodyOnlyWhenTheBodyDoesNotMatter) {
  ServeOptions options;
  options.api_key = "k";
  Service service(Classifier::load_default(), options);
  Request r = post("/v1/classify", "");
  EXPECT_EQ(service.answer_before_body(r)->status, 401);
  r.headers.emplace_back("authorization", "bearer k");  // the scheme is case-insensitive
  EXPECT_FALSE(service.answer_before_body(r).has_value());
  r.method = "PUT";
  EXPECT_EQ(service.answer_before_body(r)->status, 405);
  r.path = "/nowhere";
  EXPECT_EQ(service.answer_before_body(r)->status, 404);
  EXPECT_EQ(Service::routes()[service.route_of("/assets/app.js")].path, "/assets/{file}");
  EXPECT_EQ(service.route_of("/assets/"), Service::routes().size());
}

}  // namespace
}  // namespace logclf::server
