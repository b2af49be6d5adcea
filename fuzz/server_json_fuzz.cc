// Fuzzes the service's JSON endpoints without sockets: POST /v1/classify, /v1/classify/json,
// /v1/classify/ndjson and /v1/logs (OTLP JSON). The first byte picks the endpoint, the flag and how the NDJSON body is cut into
// pieces; the rest is the body. Besides crashes it checks that the status is 200, 400 or 413, that every
// error is a JSON object with a message, that an answer has one labelled record (one line) per input record,
// and that the records answered with an error are those the Logclf-Errors header counts.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "logclf/classifier.h"
#include "server/service.h"

namespace {

using logclf::server::BodyRead;
using logclf::server::ChunkSink;
using logclf::server::Request;
using logclf::server::Response;
using logclf::server::Service;
using nlohmann::json;

Service& service() {
  static Service s = [] {
    logclf::ServeOptions options;
    options.max_body = 16 << 10;  // below the fuzzer's input size, so that 413 is reached
    options.max_lines = 64;
    return Service(logclf::Classifier::load_default(), options);
  }();
  return s;
}

[[noreturn]] void fail(const char* what, const Response& res) {
  std::fprintf(stderr, "%s: status %d, body: %s\n", what, res.status, res.body.c_str());
  std::abort();
}

// Non-blank lines of an NDJSON text, as the service counts records (a byte order mark before the first line
// is not part of it).
std::size_t records(std::string_view text) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  std::size_t n = 0;
  for (std::size_t start = 0; start < text.size();) {
    std::size_t end = text.find('\n', start);
    if (end == text.npos) end = text.size();
    if (text.substr(start, end - start).find_first_not_of(" \t\r") != std::string_view::npos) ++n;
    start = end + 1;
  }
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const unsigned endpoint = data[0] % 4;
  const std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);
  const bool ndjson = endpoint == 1, array = endpoint == 2, otlp = endpoint == 3;
  const bool flag = (data[0] / 4) & 1;
  const std::size_t piece = std::size_t{1} << (data[0] / 8 % 4) * 3;  // 1, 8, 64 or 512 bytes

  Request request;
  request.method = "POST";
  if (ndjson) {
    request.path = "/v1/classify/ndjson";
    if (flag) request.query.emplace_back("explain", "true");
    request.read_body = [&](const ChunkSink& sink) {
      for (std::size_t at = 0; at < body.size(); at += piece)
        if (!sink(std::string_view(body).substr(at, piece))) return BodyRead::stopped;
      return BodyRead::complete;
    };
  } else if (otlp) {
    request.path = "/v1/logs";
    if (flag) request.query.emplace_back("enrich", "true");
    request.headers.emplace_back("Content-Type", data[0] & 32 ? "application/x-protobuf" : "application/json");
    request.body = body;
  } else {
    request.path = array ? "/v1/classify/json" : "/v1/classify";
    if (flag) request.query.emplace_back(array ? "explain" : "on_error", array ? "true" : "fail");
    request.body = body;
  }
  const Response res = service().handle(request);
  if (res.status != 200 && res.status != 400 && res.status != 413) fail("unexpected status", res);
  if (res.status != 200) {
    const json error = json::parse(res.body, nullptr, false);
    if (!error.is_object() || !error["error"].is_string() || error["error"].get<std::string>().empty())
      fail("error not in the {\"error\": message} form", res);
    return 0;
  }
  if (otlp) {
    if (res.content_type == "application/json" && !json::parse(res.body, nullptr, false).is_object())
      fail("OTLP answer is not a JSON object", res);
  } else if (ndjson) {
    if (!res.stream) fail("NDJSON answer not streamed", res);
    std::string out;
    if (!res.stream([&](std::string_view p) {
          out.append(p);
          return true;
        }))
      fail("stream failed", res);
    std::size_t lines = 0;
    for (std::size_t start = 0; start < out.size(); ++lines) {
      const std::size_t end = out.find('\n', start);
      if (end == std::string::npos) fail("unterminated output line", res);
      const json doc = json::parse(out.substr(start, end - start), nullptr, false);
      if (!doc.is_object() || !doc.contains("predicted_label")) fail("output line is not a labelled object", res);
      start = end + 1;
    }
    if (lines != records(body)) fail("output lines differ from input records", res);
  } else {
    const json doc = json::parse(res.body);
    const json in = json::parse(body);
    const json& results = array ? doc : doc["results"];
    const json& logs = array ? in : in["logs"];
    std::size_t errors = 0;
    for (const json& r : results.is_array() ? results : json::array({results})) {
      if (!r.is_object() || !r.contains("predicted_label")) fail("answer is not a labelled object", res);
      errors += r.contains("error") && r["predicted_label"].is_null();
    }
    if ((logs.is_array() ? logs.size() : 1) != (results.is_array() ? results.size() : 1) || results.is_array() != logs.is_array())
      fail("answers differ from records", res);
    std::string counted;
    for (const auto& [key, value] : res.headers)
      if (key == "Logclf-Errors") counted = value;
    if (counted != std::to_string(errors)) fail("Logclf-Errors does not count the bad records", res);
  }
  return 0;
}
