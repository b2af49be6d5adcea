// The web assets served by the HTTP service (the web page, Swagger UI, ReDoc), embedded at build time.
#pragma once

#include <string_view>

namespace logclf::server {

struct Asset {
  std::string_view path;          // request path, e.g. "/", "/docs", "/assets/app.js"
  std::string_view content_type;  // e.g. "text/html; charset=utf-8"
  std::string_view data;
};

// The asset served at `path`, or nullptr.
const Asset* find_asset(std::string_view path);

}  // namespace logclf::server
