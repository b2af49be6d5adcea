#include "server/otlp.h"

#include <cmath>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace logclf::server {

namespace {

using nlohmann::ordered_json;

// Attribute keys added with enrich (the OpenTelemetry convention is dotted, lower-case names).
constexpr std::string_view kLabelKey = "log.classification";
constexpr std::string_view kStageKey = "log.classification.stage";
constexpr std::string_view kConfidenceKey = "log.classification.confidence";
constexpr int kMaxDepth = 64;

[[noreturn]] void invalid(const std::string& what) { throw std::invalid_argument(what); }

// The string value of an AnyValue ({"stringValue": "..."}), or nullptr.
const std::string* string_value(const ordered_json& any) {
  if (!any.is_object()) return nullptr;
  const auto it = any.find("stringValue");
  return it != any.end() && it->is_string() ? &it->get_ref<const std::string&>() : nullptr;
}

// The string value of attribute `key` in a KeyValue list, or nullptr.
const std::string* attribute(const ordered_json& record, std::string_view key) {
  const auto attributes = record.find("attributes");
  if (attributes == record.end() || !attributes->is_array()) return nullptr;
  for (const ordered_json& kv : *attributes)
    if (kv.is_object() && kv.value("key", std::string()) == key && kv.contains("value")) return string_value(kv["value"]);
  return nullptr;
}

// Sets attribute `key` of `record` to `value` (an AnyValue), in place when present.
void set_attribute(ordered_json& record, std::string_view key, ordered_json value) {
  ordered_json& attributes = record["attributes"];
  if (!attributes.is_array()) attributes = ordered_json::array();
  for (ordered_json& kv : attributes) {
    if (kv.is_object() && kv.value("key", std::string()) == key) {
      kv["value"] = std::move(value);
      return;
    }
  }
  attributes.push_back({{"key", key}, {"value", std::move(value)}});
}

// The array under `key` of `object`, nullptr when absent (an empty list), or throws naming `where`. (The
// request is walked mutably: with enrich its records get attributes, and nothing else changes.)
ordered_json* array_at(ordered_json& object, const char* key, const std::string& where) {
  if (!object.is_object()) invalid(where + " must be an object");
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  if (!it->is_array()) invalid(where + "." + key + " must be an array");
  return &*it;
}

}  // namespace

namespace detail {
std::string otlp_record_problem(std::size_t r, std::size_t s, std::size_t k, const OtlpOptions& options, bool object) {
  return "resourceLogs[" + std::to_string(r) + "].scopeLogs[" + std::to_string(s) + "].logRecords[" + std::to_string(k) +
         "]: " +
         (!object                            ? std::string("not an object")
          : options.message_attribute.empty() ? std::string("body is not a string (body.stringValue)")
                                              : "no string attribute '" + options.message_attribute + "'");
}

std::string otlp_rejected_message(const std::string& first, std::size_t rejected) {
  return first + (rejected > 1 ? " (and " + std::to_string(rejected - 1) + " more)" : "");
}
}  // namespace detail

OtlpAnswer answer_otlp_logs(std::string_view body, const OtlpOptions& options, const ClassifyLines& classify) {
  ordered_json request;
  try {
    request = ordered_json::parse(body, [](int depth, ordered_json::parse_event_t, ordered_json&) {
      if (depth > kMaxDepth) invalid("JSON nested deeper than " + std::to_string(kMaxDepth) + " levels");
      return true;
    });
  } catch (const nlohmann::json::exception& e) {
    invalid(std::string("invalid JSON: ") + e.what());
  }
  if (!request.is_object()) invalid("the body must be an ExportLogsServiceRequest (a JSON object with resourceLogs)");

  std::vector<ordered_json*> items;
  std::vector<LogLine> lines;
  OtlpAnswer answer;
  std::string first_problem;
  ordered_json none = ordered_json::array();  // stands for an absent list
  const auto or_none = [&none](ordered_json* list) -> ordered_json& { return list != nullptr ? *list : none; };
  ordered_json& resource_logs = or_none(array_at(request, "resourceLogs", "the request"));
  for (std::size_t r = 0; r < resource_logs.size(); ++r) {
    const std::string rw = "resourceLogs[" + std::to_string(r) + "]";
    ordered_json& rl = resource_logs[r];
    // The service that wrote the logs is their source (rules may apply to some sources only).
    const std::string* source = nullptr;
    if (rl.is_object() && rl.contains("resource") && rl["resource"].is_object()) source = attribute(rl["resource"], "service.name");
    ordered_json& scope_logs = or_none(array_at(rl, "scopeLogs", rw));
    for (std::size_t s = 0; s < scope_logs.size(); ++s) {
      const std::string sw = rw + ".scopeLogs[" + std::to_string(s) + "]";
      ordered_json& records = or_none(array_at(scope_logs[s], "logRecords", sw));
      for (std::size_t k = 0; k < records.size(); ++k) {
        ordered_json& record = records[k];
        const std::string* message = nullptr;
        if (record.is_object())
          message = options.message_attribute.empty() ? (record.contains("body") ? string_value(record["body"]) : nullptr)
                                                      : attribute(record, options.message_attribute);
        if (message == nullptr) {
          if (answer.rejected++ == 0) first_problem = detail::otlp_record_problem(r, s, k, options, record.is_object());
          continue;
        }
        items.push_back(&record);
        lines.push_back({*message, source ? std::string_view(*source) : std::string_view()});
      }
    }
  }
  const std::vector<Prediction> predictions = lines.empty() ? std::vector<Prediction>() : classify(lines);
  if (options.enrich) {
    for (std::size_t i = 0; i < items.size(); ++i) {
      const Prediction& p = predictions[i];
      set_attribute(*items[i], kLabelKey, {{"stringValue", p.label}});
      set_attribute(*items[i], kStageKey, {{"stringValue", std::string(to_string(p.stage))}});
      if (std::isfinite(p.confidence))
        set_attribute(*items[i], kConfidenceKey, {{"doubleValue", std::round(p.confidence * 1e4) / 1e4}});
    }
  }
  ordered_json out = options.enrich ? std::move(request) : ordered_json::object();
  if (answer.rejected > 0 && !options.enrich) {
    // int64 fields are decimal strings in OTLP's JSON encoding.
    out["partialSuccess"] = {{"rejectedLogRecords", std::to_string(answer.rejected)},
                             {"errorMessage", detail::otlp_rejected_message(first_problem, answer.rejected)}};
  }
  answer.body = out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return answer;
}

}  // namespace logclf::server
