// answer_otlp_logs() for the protobuf encoding, over the classes protoc generates from the vendored
// OpenTelemetry .proto files.
#include <cmath>
#include <stdexcept>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "server/otlp.h"

namespace logclf::server {

namespace {

namespace common = opentelemetry::proto::common::v1;
namespace logs = opentelemetry::proto::logs::v1;
namespace collector = opentelemetry::proto::collector::logs::v1;
using Attributes = google::protobuf::RepeatedPtrField<common::KeyValue>;

const std::string* string_attribute(const Attributes& attributes, std::string_view key) {
  for (const common::KeyValue& kv : attributes)
    if (kv.key() == key && kv.value().value_case() == common::AnyValue::kStringValue) return &kv.value().string_value();
  return nullptr;
}

common::AnyValue& attribute_slot(Attributes& attributes, std::string_view key) {
  for (common::KeyValue& kv : attributes)
    if (kv.key() == key) return *kv.mutable_value();
  common::KeyValue* kv = attributes.Add();
  kv->set_key(std::string(key));
  return *kv->mutable_value();
}

}  // namespace

OtlpAnswer answer_otlp_logs_protobuf(std::string_view body, const OtlpOptions& options, const ClassifyLines& classify) {
  collector::ExportLogsServiceRequest request;
  if (!request.ParseFromArray(body.data(), static_cast<int>(body.size())))
    throw std::invalid_argument("malformed OTLP protobuf: not an ExportLogsServiceRequest");
  std::vector<logs::LogRecord*> items;
  std::vector<LogLine> lines;
  OtlpAnswer answer;
  std::string first_problem;
  for (int r = 0; r < request.resource_logs_size(); ++r) {
    logs::ResourceLogs& rl = *request.mutable_resource_logs(r);
    const std::string* source = string_attribute(rl.resource().attributes(), "service.name");
    for (int s = 0; s < rl.scope_logs_size(); ++s) {
      logs::ScopeLogs& sl = *rl.mutable_scope_logs(s);
      for (int k = 0; k < sl.log_records_size(); ++k) {
        logs::LogRecord& record = *sl.mutable_log_records(k);
        const std::string* message = nullptr;
        if (!options.message_attribute.empty()) {
          message = string_attribute(record.attributes(), options.message_attribute);
        } else if (record.body().value_case() == common::AnyValue::kStringValue) {
          message = &record.body().string_value();
        }
        if (message == nullptr) {
          if (answer.rejected++ == 0)
            first_problem = detail::otlp_record_problem(static_cast<std::size_t>(r), static_cast<std::size_t>(s),
                                                        static_cast<std::size_t>(k), options, true);
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
      Attributes& attributes = *items[i]->mutable_attributes();
      attribute_slot(attributes, "log.classification").set_string_value(p.label);
      attribute_slot(attributes, "log.classification.stage").set_string_value(std::string(to_string(p.stage)));
      if (std::isfinite(p.confidence))
        attribute_slot(attributes, "log.classification.confidence").set_double_value(std::round(p.confidence * 1e4) / 1e4);
    }
    answer.body = request.SerializeAsString();
    return answer;
  }
  collector::ExportLogsServiceResponse response;
  if (answer.rejected > 0) {
    response.mutable_partial_success()->set_rejected_log_records(static_cast<std::int64_t>(answer.rejected));
    response.mutable_partial_success()->set_error_message(detail::otlp_rejected_message(first_problem, answer.rejected));
  }
  answer.body = response.SerializeAsString();
  return answer;
}

}  // namespace logclf::server
