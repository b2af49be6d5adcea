// OpenTelemetry logs over OTLP/HTTP (POST /v1/logs), in the JSON or the protobuf encoding: an
// ExportLogsServiceRequest in, its log records classified, and an ExportLogsServiceResponse out in the same
// encoding (partialSuccess counting the records that could not be classified), or with enrich the request
// itself with each record's classification added as attributes, so that a Collector pipeline can forward it.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "logclf/types.h"

namespace logclf::server {

struct OtlpOptions {
  std::string message_attribute;  // take the message from this log attribute instead of the body
  bool enrich = false;            // answer the request with the classification attributes added
};

struct OtlpAnswer {
  std::string body;  // in the request's encoding
  std::size_t rejected = 0;  // records without a string message
};

using ClassifyLines = std::function<std::vector<Prediction>(std::span<const LogLine> lines)>;

// Throws std::invalid_argument naming what is wrong when `body` is no ExportLogsServiceRequest in JSON.
OtlpAnswer answer_otlp_logs(std::string_view body, const OtlpOptions& options, const ClassifyLines& classify);
namespace detail {
// Why record k of scope s of resource r has no message, and the partialSuccess errorMessage for `rejected`
// records the first of which had `first` (shared by both encodings).
std::string otlp_record_problem(std::size_t r, std::size_t s, std::size_t k, const OtlpOptions& options, bool object);
std::string otlp_rejected_message(const std::string& first, std::size_t rejected);
}  // namespace detail

// The same for the protobuf encoding (application/x-protobuf).
OtlpAnswer answer_otlp_logs_protobuf(std::string_view body, const OtlpOptions& options, const ClassifyLines& classify);

}  // namespace logclf::server
