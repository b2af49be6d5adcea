// The OpenAPI 3.0 description of the HTTP service, served at /openapi.json (and read by /docs, /redoc).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace logclf::server {

// The document for a model whose predictions carry `labels`; with `api_key`, every operation but
// /health requires the bearer key.
nlohmann::ordered_json openapi_document(const std::vector<std::string>& labels, bool api_key);

}  // namespace logclf::server
