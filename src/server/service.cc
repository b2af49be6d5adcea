#include "server/service.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <new>
#include <span>
#include <stdexcept>
#include <utility>

#include <nlohmann/json.hpp>

#include "io/json_text.h"
#include "io/reader_util.h"
#include "io/utf8.h"
#include "logclf/io.h"
#include "server/assets.h"
#include "server/batcher.h"
#include "server/json_records.h"
#include "server/openapi.h"
#include "server/otlp.h"
#include "server/process_metrics.h"
#include "util/ascii.h"

namespace logclf::server {

namespace {

using nlohmann::json;
using nlohmann::ordered_json;  // keeps keys in the order the original API wrote them

constexpr std::string_view kJson = "application/json";

// A failure with its HTTP status, thrown inside the handlers and turned into a JSON error by handle().
struct HttpError {
  int status;
  std::string message;
  // A required field that is absent: where ("query", "body") and its name. FastAPI-style answers make it a
  // 422 validation error.
  std::string missing_in = {};
  std::string missing_field = {};
};

// The order of Service::routes(). The busiest POST route comes first: route_of() tries the routes in this
// order.
enum RouteId : std::size_t {
  kClassify, kClassifyJson, kClassifyCsv, kClassifyNdjson, kOtlpLogs, kClassifyLog, kUploadCsv,
  kHealth, kReady, kMetrics, kModel, kOpenApi, kPage, kDocs, kRedoc, kAssets
};

// Lines classified per classify_batch() call for CSV and NDJSON bodies (as `logclf classify` does).
constexpr std::size_t kChunkLines = 256;
// The longest NDJSON line (as the CLI's record limit); the streamed body itself has no limit.
constexpr std::size_t kMaxNdjsonLine = std::size_t{16} << 20;
// The largest OTLP request, which is parsed into a document (several times its size in memory).
constexpr std::size_t kMaxOtlpBody = std::size_t{16} << 20;
// Rows of the original /upload_csv/ answer.
constexpr std::size_t kPreviewRows = 5;
// nlohmann's parser has no nesting limit and keeps every value it reads, so 64 MiB of "[[[[" or of one
// huge array would take gigabytes. The service parses with a callback that refuses deeper nesting than
// this and drops, as they are read, the fields it does not use.
constexpr int kMaxDepth = 32;
using Event = json::parse_event_t;

// nlohmann's parser takes a NUL byte for the end of its input and ignores what follows; JSON text has no
// raw NUL, so one is refused before parsing. The line and column (from 1) of the first, if any.
struct Position {
  std::size_t line, column;
};
std::optional<Position> find_nul(std::string_view text) {
  const std::size_t at = text.find('\0');
  if (at == text.npos) return std::nullopt;
  const std::size_t line_start = text.rfind('\n', at) + 1;  // npos + 1 == 0
  return Position{static_cast<std::size_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n')) + 1,
                  at - line_start + 1};
}

using util::equal_ignoring_case;

// Compares in time independent of where the strings differ, so response times do not reveal how much of
// a guessed key is right (OpenSSL's CRYPTO_memcmp would need equal lengths and a link to libcrypto).
bool equal_in_constant_time(std::string_view given, std::string_view expected) {
  unsigned difference = given.size() != expected.size() ? 1u : 0u;
  for (std::size_t i = 0; i < given.size(); ++i) {
    const char e = expected.empty() ? '\0' : expected[i % expected.size()];
    difference |= static_cast<unsigned char>(given[i] ^ e);
  }
  return difference == 0;
}

bool allows(std::string_view methods, std::string_view method) {
  for (std::size_t start = 0; start < methods.size();) {
    std::size_t end = methods.find(',', start);
    if (end == methods.npos) end = methods.size();
    if (methods.substr(start, end - start) == method) return true;
    start = end + 1;
    while (start < methods.size() && methods[start] == ' ') ++start;
  }
  return false;
}

// nlohmann's message without its "[json.exception.parse_error.101] " prefix.
std::string_view without_prefix(const json::exception& e) {
  std::string_view text = e.what();
  if (text.starts_with('[')) text.remove_prefix(std::min(text.size(), text.find("] ") + 2));
  return text;
}

// "invalid JSON in WHAT at line 1, column 9: syntax error while parsing ..." from a parse error,
// "[json.exception.parse_error.101] parse error at line 1, column 9: syntax error ...", or
// "invalid JSON in WHAT: number overflow parsing '1E400'" from the out_of_range error of a number.
std::string describe(const json::exception& e, std::string_view what) {
  std::string_view text = without_prefix(e);
  if (const auto at = text.find("at line "); at != text.npos) return "invalid JSON in " + std::string(what) + " " + std::string(text.substr(at));
  return "invalid JSON in " + std::string(what) + ": " + std::string(text);
}

bool query_flag(const Request& request, std::string_view name) {
  const std::string* value = request.query_param(name);
  if (value == nullptr) return false;
  for (const char* yes : {"true", "1", "yes", "on"})
    if (equal_ignoring_case(*value, yes)) return true;
  for (const char* no : {"false", "0", "no", "off", ""})
    if (equal_ignoring_case(*value, no)) return false;
  throw HttpError{400, "query parameter '" + std::string(name) + "' must be true or false, not '" + *value + "'"};
}

// Text from the query string, which may be any bytes: made valid UTF-8 as the readers do.
std::string valid_utf8(std::string text) {
  if (const std::size_t bad = io::find_invalid_utf8(text); bad != io::kValidUtf8) io::replace_invalid_utf8(text, bad);
  return text;
}

// A CSV upload: the multipart field "file", or the body itself.
struct CsvInput {
  std::string_view text;
  std::string name;  // for error messages
  std::string stem;  // for the name of the classified file
};

CsvInput csv_input(const Request& request) {
  if (!request.multipart) return {request.body, "body", "logs"};
  const auto file = std::find_if(request.files.begin(), request.files.end(),
                                 [](const FormFile& f) { return f.name == "file"; });
  if (file == request.files.end()) throw HttpError{400, "multipart/form-data body has no 'file' field", "body", "file"};
  // The file name goes into a header: only characters that need no quoting there are kept.
  std::string stem = file->filename.substr(0, file->filename.find_last_of('.'));
  if (const auto slash = stem.find_last_of("/\\"); slash != stem.npos) stem.erase(0, slash + 1);
  for (char& c : stem)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') c = '_';
  if (stem.empty()) stem = "logs";
  return {file->content, file->filename.empty() ? "file" : file->filename, stem};
}

// Validates a JSON body without keeping it (every value below the top level is dropped as it is read, and
// nesting is bounded), so that the records can be read from its text: throws HttpError naming `what`.
void check_json(std::string_view text, std::string_view what) {
  if (const auto nul = find_nul(text))
    throw HttpError{400, "invalid JSON in " + std::string(what) + " at line " + std::to_string(nul->line) +
                             ", column " + std::to_string(nul->column) + ": NUL byte"};
  const json::parser_callback_t drop = [&](int depth, Event, json&) {
    if (depth > kMaxDepth)
      throw HttpError{400, "JSON in " + std::string(what) + " nested deeper than " + std::to_string(kMaxDepth) + " levels"};
    return depth == 0;
  };
  try {
    [[maybe_unused]] const json top = json::parse(text, drop);  // the top level only: its values were dropped
  } catch (const json::exception& e) {  // parse_error, or out_of_range for a number too large
    throw HttpError{400, describe(e, what)};
  }
}

// ?message_key=NAME: the one key holding the message (else log_message, message, log or msg).
std::string message_key(const Request& request) {
  const std::string* key = request.query_param("message_key");
  if (key == nullptr) return {};
  if (key->empty()) throw HttpError{400, "query parameter 'message_key' is empty"};
  return *key;
}

// ?on_error=pass (the default: a bad record is answered in its place) or fail (the request fails with 400).
bool fail_on_error(const Request& request) {
  const std::string* value = request.query_param("on_error");
  if (value == nullptr || *value == "pass") return false;
  if (*value == "fail") return true;
  throw HttpError{400, "query parameter 'on_error' must be 'pass' or 'fail'"};
}

// Whether an error of the original API's two endpoints is answered as FastAPI (which served them first)
// answered it: asked by ?compat=fastapi, or for every request by the server's fastapi_errors option.
// nullopt when ?compat= has another value. Other endpoints have no FastAPI past: always false.
std::optional<bool> fastapi_errors(const Request& request, std::size_t route, bool by_default) {
  if (route != kClassifyLog && route != kUploadCsv) return false;
  const std::string* compat = request.query_param("compat");
  if (compat == nullptr) return by_default;
  if (*compat == "fastapi") return true;
  return std::nullopt;
}

// An error as FastAPI answers it: a missing field is a 422 validation error in pydantic 2's shape,
// {"detail": [{"type": "missing", "loc": ["query", "log_message"], "msg": "Field required", "input": null}]};
// any other is {"detail": message} with its status, as FastAPI's HTTPException.
Response fastapi_error(const HttpError& e) {
  Response res;
  res.content_type = kJson;
  if (!e.missing_field.empty()) {
    res.status = 422;
    ordered_json problem = ordered_json::object();
    problem["type"] = "missing";
    problem["loc"] = ordered_json::array({e.missing_in, e.missing_field});
    problem["msg"] = "Field required";
    problem["input"] = nullptr;
    res.body = ordered_json{{"detail", ordered_json::array({std::move(problem)})}}.dump();
  } else {
    res.status = e.status;
    res.body = json{{"detail", valid_utf8(e.message)}}.dump();
  }
  return res;
}

// The number of bad records, on every batch endpoint's answer.
constexpr std::string_view kErrorsHeader = "Logclf-Errors";

}  // namespace

std::string_view Request::header(std::string_view name) const {
  for (const auto& [key, value] : headers)
    if (equal_ignoring_case(key, name)) return value;
  return {};
}

const std::string* Request::query_param(std::string_view name) const {
  for (const auto& [key, value] : query)
    if (key == name) return &value;
  return nullptr;
}

const std::vector<Route>& Service::routes() {
  // In RouteId order.
  static const std::vector<Route> routes = {
      {"/v1/classify", "POST"},
      {"/v1/classify/json", "POST"},
      {"/v1/classify/csv", "POST"},
      {"/v1/classify/ndjson", "POST", false, false, true},
      {"/v1/logs", "POST"},
      {"/classify_log/", "POST"},
      {"/upload_csv/", "POST"},
      {"/health", "GET, HEAD", false, true},
      {"/ready", "GET, HEAD", false, true},
      {"/metrics", "GET, HEAD"},
      {"/v1/model", "GET, HEAD"},
      // The page, the API's description and their assets hold no data and are open, so that a browser can
      // reach them to ask for the key (the page) or to authorize (Swagger UI's button).
      {"/openapi.json", "GET, HEAD", false, true},
      {"/", "GET, HEAD", false, true},
      {"/docs", "GET, HEAD", false, true},
      {"/redoc", "GET, HEAD", false, true},
      {"/assets/{file}", "GET, HEAD", true, true},
  };
  return routes;
}

// What a loaded model brings to the service. reload() swaps it whole; a request keeps the one it started
// with to its end (its shared_ptr), so requests in flight during a reload finish on the old model.
struct Model {
  explicit Model(Classifier c) : classifier(std::move(c)) {}
  Classifier classifier;
  std::vector<std::string> labels;        // every label a prediction can carry
  std::unique_ptr<MicroBatcher> batcher;  // when single lines share encoder batches
  std::string model_text;                 // GET /v1/model
  std::string openapi_text;               // GET /openapi.json (the labels are in it)
};

struct Service::Impl {
  Impl(Classifier c, ServeOptions o) : options(std::move(o)), metrics(metric_paths(), {}) {
    if (options.cache.mode != CacheMode::off) cache = std::make_unique<MessageCache>(options.cache);
    model.store(make_model(std::move(c)));
  }

  std::shared_ptr<const Model> make_model(Classifier c) {
    auto m = std::make_shared<Model>(std::move(c));
    m->labels = all_labels(m->classifier);
    metrics.add_labels(m->labels);
    const bool batch = options.batching == MicroBatching::always ||
                       (options.batching == MicroBatching::automatic && m->classifier.encoder_batches());
    if (batch) {
      m->batcher = std::make_unique<MicroBatcher>(
          [this, &classifier = m->classifier](std::span<const LogLine> lines) {
            return cache ? classifier.classify_batch(lines, *cache, true) : classifier.classify_batch(lines, true);
          },
          options.batch_wait, options.batch_lines);
    }
    m->model_text = model_document(m->classifier).dump();
    m->openapi_text = openapi_document(m->labels, !options.api_key.empty()).dump();
    return m;
  }

  std::shared_ptr<const Model> current() const { return model.load(); }

  // Every label a prediction can carry: the head's, the rules', and Uncertain.
  static std::vector<std::string> all_labels(const Classifier& classifier) {
    std::vector<std::string> labels = classifier.labels();
    for (const Rule& rule : classifier.rules().rules()) labels.push_back(rule.label);
    labels.emplace_back(kUncertainLabel);
    std::sort(labels.begin(), labels.end());
    labels.erase(std::unique(labels.begin(), labels.end()), labels.end());
    return labels;
  }

  static std::vector<std::string> metric_paths() {
    std::vector<std::string> paths;
    for (const Route& route : routes()) paths.emplace_back(route.path);
    paths.emplace_back("other");
    return paths;
  }

  ordered_json model_document(const Classifier& classifier) const {
    ordered_json rules = ordered_json::array();
    for (const Rule& r : classifier.rules().rules())
      rules.push_back({{"name", r.name}, {"label", r.label}, {"pattern", r.pattern}, {"sources", r.sources}});
    const json metadata = json::parse(classifier.metadata_json());
    return {{"version", std::string(version())},
            {"encoder", std::string(classifier.encoder_kind())},
            {"labels", classifier.labels()},
            {"threshold", classifier.threshold()},
            {"rules", std::move(rules)},
            {"training", metadata.value("training", json())},
            {"cache", cache ? std::string(to_string(cache->mode())) : "off"}};
  }

  bool authorized(const Request& request) const {
    if (options.api_key.empty()) return true;
    std::string_view value = request.header("Authorization");
    constexpr std::string_view kScheme = "Bearer ";
    if (value.size() < kScheme.size() || !equal_ignoring_case(value.substr(0, kScheme.size()), kScheme)) return false;
    value.remove_prefix(kScheme.size());
    return equal_in_constant_time(value, options.api_key);
  }

  // The allowed origin to echo for `origin`, or empty.
  std::string_view allowed_origin(std::string_view origin) const {
    if (origin.empty()) return {};
    for (const std::string& allowed : options.cors_origins) {
      if (allowed == "*") return "*";
      if (allowed == origin) return origin;
    }
    return {};
  }

  void count(const Prediction& p) { metrics.count_line(p.label, p.stage); }

  // One line: through the micro-batcher when batching pays, else directly.
  Prediction classify_one(const Model& m, std::string_view message, std::string_view source) {
    const LogLine line{message, source};
    Prediction p = m.batcher ? std::move(m.batcher->classify(std::span(&line, 1)).front())
                             : std::move(classify_many(m, std::span(&line, 1), false).front());
    if (m.batcher) count(p);
    return p;
  }

  // Through the message cache when there is one.
  std::vector<Prediction> classify_many(const Model& m, std::span<const LogLine> lines, bool with_distribution) {
    std::vector<Prediction> out = cache ? m.classifier.classify_batch(lines, *cache, with_distribution)
                                        : m.classifier.classify_batch(lines, with_distribution);
    for (const Prediction& p : out) count(p);
    return out;
  }

  // ---- GET --------------------------------------------------------------------------------------
  Response get(std::size_t route, const Request& request) {
    Response res;
    switch (route) {
      case kHealth:
        res.content_type = kJson;
        res.body = R"({"status":"ok"})";
        return res;
      case kReady:
        // Ready while it serves: the model is loaded before the server listens, and a stop makes it
        // answer 503 so that a load balancer sends no new requests while those in flight finish.
        res.content_type = kJson;
        if (stopping.load(std::memory_order_relaxed)) {
          res.status = 503;
          res.body = R"({"status":"stopping"})";
        } else {
          res.body = R"({"status":"ready"})";
        }
        return res;
      case kMetrics:
        res.content_type = Metrics::kContentType;
        res.body = metrics.text();
        if (cache) append_cache_metrics(res.body, *cache);
        append_process_metrics(res.body);
        return res;
      case kModel:
        res.content_type = kJson;
        res.body = current()->model_text;
        return res;
      case kOpenApi:
        res.content_type = kJson;
        res.body = current()->openapi_text;
        return res;
      default:
        break;
    }
    const Asset* asset = find_asset(request.path);
    if (asset == nullptr) return error(404, "not found: " + request.path);
    res.content_type = asset->content_type;
    res.body = asset->data;
    return res;
  }

  // ---- POST /classify_log/ (the original API) -----------------------------------------------------
  Response classify_log(const Request& request) {
    const std::string* param = request.query_param("log_message");
    if (param == nullptr) throw HttpError{400, "query parameter 'log_message' is required", "query", "log_message"};
    const std::string message = valid_utf8(*param);
    const Prediction p = classify_one(*current(), message, {});
    ordered_json out = {{"log_message", message}, {"predicted_label", p.label}};
    return json_response(out);
  }

  // ---- POST /upload_csv/ (the original API) -------------------------------------------------------
  Response upload_csv(const Request& request) {
    const CsvInput input = csv_input(request);
    std::unique_ptr<RecordReader> reader;
    try {
      reader = RecordReader::from_string(std::string(input.text), input.name, ReadOptions{});
    } catch (const Error& e) {
      // The original answer when the column is missing; other header problems keep the reader's words.
      if (std::string_view(e.what()).starts_with(input.name + ": missing column 'log_message'"))
        throw HttpError{400, "CSV must contain a 'log_message' column."};
      throw;
    }
    // Every row is read so that a malformed file is refused as a whole; the answer shows the first rows.
    std::vector<Record> preview;
    Record record;
    while (reader->next(record))
      if (preview.size() < kPreviewRows) preview.push_back(record);
    std::vector<LogLine> lines;
    for (const Record& r : preview) lines.push_back({r.message, r.source});
    const std::vector<Prediction> predictions = classify_many(*current(), lines, false);
    ordered_json rows = ordered_json::array();
    const std::vector<std::string>& columns = reader->columns();
    for (std::size_t i = 0; i < preview.size(); ++i) {
      ordered_json row = ordered_json::object();
      for (std::size_t c = 0; c < columns.size(); ++c) row[columns[c]] = preview[i].fields[c];
      row["predicted_label"] = predictions[i].label;
      rows.push_back(std::move(row));
    }
    return json_response({{"message", "CSV processed successfully"}, {"preview", std::move(rows)}});
  }

  // ---- POST /v1/classify and /v1/classify/json -----------------------------------------------------
  // The records of a JSON body, read and answered as JsonRecords does, classified through the micro-batcher
  // when the request holds one line.
  JsonRecords records_for(const Request& request, bool explain, std::shared_ptr<const Model> m) {
    return JsonRecords(message_key(request), explain,
                       [this, m = std::move(m)](std::span<const LogLine> lines, bool distribution) {
                         if (lines.size() == 1)
                           return std::vector<Prediction>{classify_one(*m, lines[0].message, lines[0].source)};
                         return classify_many(*m, lines, distribution);
                       });
  }

  void add_elements(JsonRecords& records, std::string_view array, std::string_view name) {
    std::vector<std::pair<std::size_t, std::size_t>> elements;
    io::find_elements(array, elements);
    if (elements.size() > options.max_lines)
      throw HttpError{413, "too many records in one request (the limit is " + std::to_string(options.max_lines) + ")"};
    for (std::size_t i = 0; i < elements.size(); ++i)
      records.add(array.substr(elements[i].first, elements[i].second - elements[i].first),
                  std::string(name) + "[" + std::to_string(i) + "]");
  }

  // {"logs": [record, ...], "distribution": bool} → {"results": [record + prediction, ...], "errors": N}.
  Response classify(const Request& request) {
    constexpr std::string_view kShape = "the request body must be a JSON object with a 'logs' array";
    const std::string_view body = request.body;
    check_json(body, "the request body");
    std::vector<io::JsonMember> members;
    if (!io::find_members(body, members)) throw HttpError{400, std::string(kShape)};
    std::string_view logs;
    bool distribution = false;
    for (const io::JsonMember& m : members) {  // the last of a repeated key counts, as for nlohmann
      const std::string_view value = body.substr(m.value_begin, m.value_end - m.value_begin);
      if (m.key == "logs") logs = value;
      if (m.key == "distribution") {
        if (value != "true" && value != "false" && value != "null")
          throw HttpError{400, "field 'distribution' must be true or false"};
        distribution = value == "true";
      }
    }
    if (logs.empty() || logs.front() != '[') throw HttpError{400, "field 'logs' must be an array"};
    const std::shared_ptr<const Model> m = current();
    JsonRecords records = records_for(request, true, m);
    add_elements(records, logs, "logs");
    if (fail_on_error(request) && records.errors() > 0) throw HttpError{400, records.first_error()};
    std::string out = "{\"results\":[";
    bool first = true;
    records.answer(
        [&](std::string_view record) {
          if (!std::exchange(first, false)) out += ',';
          out += record;
        },
        distribution ? &m->classifier.labels() : nullptr);
    out += "],\"errors\":" + std::to_string(records.errors()) + "}";
    return batch_response(std::move(out), records.errors());
  }

  // A JSON array of records (what Vector's and Fluent Bit's HTTP outputs send with their JSON codec) → the
  // same array, each record with its prediction, in order; one record (an object, as Logstash's http filter
  // sends) → that record with its prediction.
  Response classify_json(const Request& request) {
    const std::string_view body = request.body;
    check_json(body, "the request body");
    const std::size_t first_char = body.find_first_not_of(" \t\r\n");
    const bool array = first_char != body.npos && body[first_char] == '[';
    if (!array && (first_char == body.npos || body[first_char] != '{'))
      throw HttpError{400, "the request body must be a JSON array of records, or one record (a JSON object)"};
    JsonRecords records = records_for(request, query_flag(request, "explain"), current());
    const std::string_view value = body.substr(first_char, body.find_last_not_of(" \t\r\n") + 1 - first_char);
    if (array) {
      add_elements(records, value, "");
    } else {
      records.add(value, "the record");
    }
    if (fail_on_error(request) && records.errors() > 0) throw HttpError{400, records.first_error()};
    const std::size_t errors = records.errors();
    std::string out = array ? "[" : "";
    bool first = true;
    records.answer([&](std::string_view record) {
      if (array && !std::exchange(first, false)) out += ',';
      out += record;
    });
    if (array) out += ']';
    return batch_response(std::move(out), errors);
  }

  // ---- POST /v1/logs (OpenTelemetry, OTLP/HTTP in the protobuf or the JSON encoding) ------------------
  Response otlp_logs(const Request& request) {
    const std::string_view type = request.header("Content-Type");
    const bool protobuf = type.find("application/x-protobuf") != type.npos;
    if (!protobuf && type.find("json") == type.npos)
      throw HttpError{415, "OTLP/HTTP requests are application/x-protobuf or application/json, not '" +
                               std::string(type) + "'"};
    // The request is held as a document while it is classified: at most kMaxOtlpBody of it.
    if (request.body.size() > kMaxOtlpBody)
      throw HttpError{413, "OTLP request larger than " + std::to_string(kMaxOtlpBody) + " bytes: send smaller batches"};
    OtlpOptions o;
    if (const std::string* attribute = request.query_param("message_attribute")) o.message_attribute = *attribute;
    o.enrich = query_flag(request, "enrich");
    OtlpAnswer answer;
    try {
      const ClassifyLines classify = [this, m = current()](std::span<const LogLine> lines) {
        return classify_many(*m, lines, false);
      };
      answer = protobuf ? answer_otlp_logs_protobuf(request.body, o, classify) : answer_otlp_logs(request.body, o, classify);
    } catch (const std::invalid_argument& e) {
      throw HttpError{400, e.what()};
    }
    Response res = batch_response(std::move(answer.body), answer.rejected);
    if (protobuf) res.content_type = "application/x-protobuf";
    return res;
  }

  // ---- POST /v1/classify/csv ----------------------------------------------------------------------
  Response classify_csv(const Request& request) {
    const bool explain = query_flag(request, "explain");
    const CsvInput input = csv_input(request);
    auto reader = RecordReader::from_string(std::string(input.text), input.name, ReadOptions{});
    WriteOptions wo;
    wo.explain = explain;
    auto writer = RecordWriter::to_string(*reader, wo);
    std::vector<Record> records(kChunkLines);
    std::vector<LogLine> lines;
    const std::shared_ptr<const Model> m = current();
    for (bool more = true; more;) {
      std::size_t n = 0;
      while (n < kChunkLines && (more = reader->next(records[n]))) ++n;
      lines.clear();
      for (std::size_t i = 0; i < n; ++i) lines.push_back({records[i].message, records[i].source});
      const std::vector<Prediction> predictions = classify_many(*m, lines, false);
      for (std::size_t i = 0; i < n; ++i) writer->write(records[i], predictions[i]);
    }
    writer->commit();
    Response res;
    res.content_type = "text/csv; charset=utf-8";
    res.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + input.stem + "-classified.csv\"");
    res.body = writer->str();
    return res;
  }

  // ---- POST /v1/classify/ndjson -------------------------------------------------------------------
  // Streamed both ways for log shippers: the answer (200) starts at once, and the lines of each piece of
  // the body that arrives are classified and sent before the next piece is read, so a client writing a
  // long body gets its answers as it goes, and a client that stops reading stops the reading too. There is
  // no total size limit, only one per line. A bad line is answered in its place, as `logclf classify
  // --on-error pass` writes it (the object, or {"raw": ...}, with a null predicted_label and "error").
  Response classify_ndjson(const Request& request) {
    Response res;
    res.content_type = "application/x-ndjson";
    const bool explain = query_flag(request, "explain");
    const std::size_t max_line = std::min<std::size_t>(options.max_body, kMaxNdjsonLine);
    res.stream = [this, explain, max_line, key = message_key(request), read = request.read_body,
                  body = request.read_body ? std::string() : request.body, m = current()](const ChunkSink& write) {
      NdjsonStream stream(*this, *m, key, explain, max_line, write);
      if (!read) return stream.feed(body) && stream.finish();
      switch (read([&](std::string_view piece) { return stream.feed(piece); })) {
        case BodyRead::complete: return stream.finish();
        case BodyRead::too_large: case BodyRead::stopped: case BodyRead::failed: break;
      }
      return false;  // the client went away (or stopped reading, or its body broke off)
    };
    return res;
  }

  // The state of one streamed NDJSON request: the line being read and the lines ready to be classified.
  class NdjsonStream {
   public:
    NdjsonStream(Impl& service, const Model& model, std::string_view message_key, bool explain, std::size_t max_line,
                 const ChunkSink& write)
        : records_(message_key, explain,
                   [&service, &model](std::span<const LogLine> lines, bool) {
                     return service.classify_many(model, lines, false);
                   }),
          max_line_(max_line),
          write_(write) {}

    // Takes a piece of the body; answers its complete lines. False once the client stops reading.
    bool feed(std::string_view piece) {
      while (!piece.empty()) {
        const std::size_t newline = piece.find('\n');
        const std::string_view part = piece.substr(0, newline);
        if (!too_long_) {
          if (pending_.size() + part.size() > max_line_) {
            too_long_ = true;  // the rest of this line is dropped as it comes
            pending_.clear();
            pending_.shrink_to_fit();
          } else {
            pending_.append(part);
          }
        }
        if (newline == piece.npos) break;
        end_line();
        piece.remove_prefix(newline + 1);
        if (records_.size() >= kChunkLines && !flush()) return false;
      }
      return flush();
    }
    // The body has ended: its last line (without a line break) is answered too.
    bool finish() {
      if (!pending_.empty() || too_long_) end_line();
      return flush();
    }

   private:
    void end_line() {
      const std::uint64_t n = line_++;
      const std::string where = "line " + std::to_string(n);
      if (too_long_) {
        too_long_ = false;
        records_.add_error(where + ": longer than " + std::to_string(max_line_) + " bytes");
        return;
      }
      std::string_view text = pending_;
      if (n == 1 && text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
      const std::size_t first = text.find_first_not_of(" \t\r");
      if (first != text.npos) {  // a blank line has nothing to answer
        records_.add(text.substr(first, text.find_last_not_of(" \t\r") - first + 1), where);
      }
      pending_.clear();
      if (pending_.capacity() > (std::size_t{1} << 20)) pending_.shrink_to_fit();
    }

    // Classifies the good lines in hand and sends every line's answer, in order.
    bool flush() {
      if (records_.size() == 0) return true;
      out_.clear();
      records_.answer([&](std::string_view record) { out_.append(record).append("\n"); });
      return write_(out_);
    }

    JsonRecords records_;
    const std::size_t max_line_;
    const ChunkSink& write_;
    std::string pending_;    // the line being read
    bool too_long_ = false;  // the line being read is over max_line_ and is being skipped
    std::uint64_t line_ = 1;
    std::string out_;
  };

  // A batch endpoint's JSON answer, with the number of bad records in its header.
  static Response batch_response(std::string body, std::size_t errors) {
    Response res;
    res.content_type = kJson;
    res.body = std::move(body);
    res.headers.emplace_back(kErrorsHeader, std::to_string(errors));
    return res;
  }

  static Response json_response(const ordered_json& doc) {
    Response res;
    res.content_type = kJson;
    res.body = doc.dump();
    return res;
  }

  ServeOptions options;
  Metrics metrics;
  std::unique_ptr<MessageCache> cache;  // shared by every model: it starts afresh for a new one (cache.h)
  std::atomic<std::shared_ptr<const Model>> model;
  std::atomic<bool> stopping{false};
};

Service::Service(Classifier classifier, ServeOptions options)
    : impl_(std::make_unique<Impl>(std::move(classifier), std::move(options))) {}

Service::~Service() = default;

Metrics& Service::metrics() { return impl_->metrics; }
void Service::begin_stopping() { impl_->stopping = true; }
void Service::reload(Classifier classifier) { impl_->model.store(impl_->make_model(std::move(classifier))); }
const ServeOptions& Service::options() const { return impl_->options; }

Response Service::error(int status, std::string_view message) {
  Response res;
  res.status = status;
  res.content_type = kJson;
  // Messages may quote what the client sent (a JSON parser's "last read: ..."), which need not be UTF-8.
  res.body = json{{"error", valid_utf8(std::string(message))}}.dump();
  return res;
}

std::size_t Service::route_of(std::string_view path) {
  const auto& all = routes();
  for (std::size_t i = 0; i < all.size(); ++i) {
    const Route& r = all[i];
    if (r.prefix) {
      const std::string_view prefix = r.path.substr(0, r.path.find('{'));
      if (path.size() > prefix.size() && path.starts_with(prefix)) return i;
    } else if (path == r.path) {
      return i;
    }
  }
  return all.size();
}

void Service::add_cors_headers(std::string_view origin, Response& response) const {
  const std::string_view allowed = impl_->allowed_origin(origin);
  if (allowed.empty()) return;
  response.headers.emplace_back("Access-Control-Allow-Origin", allowed);
  if (allowed != "*") response.headers.emplace_back("Vary", "Origin");
  response.headers.emplace_back("Access-Control-Expose-Headers", "Content-Disposition");
}

std::optional<Response> Service::answer_before_body(const Request& request) {
  try {
    const std::size_t route = route_of(request.path);
    if (route == routes().size()) {
      Response res = error(404, "not found: " + request.path);
      add_cors_headers(request.header("Origin"), res);
      return res;
    }
    const Route& r = routes()[route];
    const std::string_view method = request.method == "HEAD" ? "GET" : std::string_view(request.method);
    Response res;
    if (method == "OPTIONS") {
      // Answers plain OPTIONS and CORS preflight requests alike; preflights carry no credentials.
      res.status = 204;
      res.headers.emplace_back("Allow", std::string(r.methods) + ", OPTIONS");
      if (!impl_->allowed_origin(request.header("Origin")).empty() &&
          !request.header("Access-Control-Request-Method").empty()) {
        res.headers.emplace_back("Access-Control-Allow-Methods", r.methods);
        res.headers.emplace_back("Access-Control-Allow-Headers", "Authorization, Content-Type");
        res.headers.emplace_back("Access-Control-Max-Age", "600");
      }
    } else if (!allows(r.methods, method)) {
      const std::string message = "method " + request.method + " is not allowed on " + std::string(r.path);
      res = fastapi_errors(request, route, impl_->options.fastapi_errors).value_or(false)
                ? fastapi_error(HttpError{405, message})
                : error(405, message);
      res.headers.emplace_back("Allow", r.methods);
    } else if (!r.open && !impl_->authorized(request)) {
      const std::string message = "missing or invalid API key: send 'Authorization: Bearer KEY'";
      res = fastapi_errors(request, route, impl_->options.fastapi_errors).value_or(false)
                ? fastapi_error(HttpError{401, message})
                : error(401, message);
      res.headers.emplace_back("WWW-Authenticate", "Bearer");
    } else if (method == "GET") {
      res = impl_->get(route, request);
    } else {
      return std::nullopt;
    }
    add_cors_headers(request.header("Origin"), res);
    return res;
  } catch (const std::exception& e) {
    return error(500, std::string("internal error: ") + e.what());
  }
}

Response Service::handle(const Request& request) {
  if (auto early = answer_before_body(request)) return std::move(*early);
  Response res;
  const std::size_t route = route_of(request.path);
  bool fastapi = false;
  try {
    const std::optional<bool> compat = fastapi_errors(request, route, impl_->options.fastapi_errors);
    if (!compat) throw HttpError{400, "query parameter 'compat' must be 'fastapi'"};
    fastapi = *compat;
    std::size_t body_bytes = request.body.size();
    for (const FormFile& f : request.files) body_bytes += f.content.size();
    if (body_bytes > impl_->options.max_body)
      throw HttpError{413, "request body larger than " + std::to_string(impl_->options.max_body) + " bytes"};
    switch (route) {
      case kClassifyLog: res = impl_->classify_log(request); break;
      case kUploadCsv: res = impl_->upload_csv(request); break;
      case kClassify: res = impl_->classify(request); break;
      case kClassifyJson: res = impl_->classify_json(request); break;
      case kClassifyCsv: res = impl_->classify_csv(request); break;
      case kClassifyNdjson: res = impl_->classify_ndjson(request); break;
      case kOtlpLogs: res = impl_->otlp_logs(request); break;
      default: res = error(404, "not found: " + request.path); break;
    }
  } catch (const HttpError& e) {
    res = fastapi ? fastapi_error(e) : error(e.status, e.message);
  } catch (const Error& e) {
    res = fastapi ? fastapi_error(HttpError{400, e.what()}) : error(400, e.what());
  } catch (const std::bad_alloc&) {
    res = error(500, "internal error: out of memory");
  } catch (const std::exception& e) {
    res = error(500, std::string("internal error: ") + e.what());
  }
  add_cors_headers(request.header("Origin"), res);
  return res;
}

}  // namespace logclf::server
