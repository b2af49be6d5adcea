// Fuzzes the service's CSV endpoints without sockets: POST /v1/classify/csv and POST /upload_csv/. The
// first byte picks the endpoint, explain=true, and whether the CSV comes as a multipart file or as the
// body; the rest is the CSV. Besides crashes it checks that the status is 200, 400 or 413, that every
// error is a JSON object with a message, and that an answer holds every input row (classified CSV: read
// back with the library's reader) or the first five (the original preview).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "logclf/classifier.h"
#include "logclf/io.h"
#include "server/service.h"

namespace {

using logclf::server::Request;
using logclf::server::Response;
using logclf::server::Service;
using nlohmann::json;

Service& service() {
  static Service s = [] {
    logclf::ServeOptions options;
    options.max_body = 16 << 10;  // below the fuzzer's input size, so that 413 is reached
    return Service(logclf::Classifier::load_default(), options);
  }();
  return s;
}

[[noreturn]] void fail(const char* what, const Response& res) {
  std::fprintf(stderr, "%s: status %d, body: %.2000s\n", what, res.status, res.body.c_str());
  std::abort();
}

std::size_t count_rows(const std::string& csv, const std::string& name) {
  auto reader = logclf::RecordReader::from_string(csv, name, logclf::ReadOptions{});
  logclf::Record record;
  std::size_t n = 0;
  while (reader->next(record)) ++n;
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const unsigned selector = data[0] % 8;
  const std::string csv(reinterpret_cast<const char*>(data) + 1, size - 1);
  const bool original = selector & 1;
  const bool explain = selector & 2;
  const bool multipart = selector & 4;

  Request request;
  request.method = "POST";
  request.path = original ? "/upload_csv/" : "/v1/classify/csv";
  if (explain) request.query.emplace_back("explain", "true");
  if (multipart) {
    request.multipart = true;
    request.files.push_back({"file", "fuzz.csv", "text/csv", csv});
  } else {
    request.body = csv;
  }
  const Response res = service().handle(request);
  if (res.status != 200 && res.status != 400 && res.status != 413) fail("unexpected status", res);
  if (res.status != 200) {
    const json error = json::parse(res.body, nullptr, false);
    if (!error.is_object() || !error["error"].is_string() || error["error"].get<std::string>().empty())
      fail("error not in the {\"error\": message} form", res);
    return 0;
  }
  // A 200 means the input is a valid CSV: the library reads it too.
  const std::size_t rows = count_rows(csv, "input");
  if (original) {
    const json doc = json::parse(res.body);
    if (doc["message"] != "CSV processed successfully" || doc["preview"].size() != std::min<std::size_t>(rows, 5))
      fail("preview rows differ from the input's first rows", res);
  } else {
    if (count_rows(res.body, "output") != rows) fail("classified rows differ from input rows", res);
  }
  return 0;
}
