// Locations of test inputs: the source tree and the read-only shared material beside the checkout.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

namespace logclf::testing {

inline std::filesystem::path source_dir() { return LOGCLF_SOURCE_DIR; }

// ../shared beside the checkout, or $LOGCLF_SHARED_DIR.
inline std::filesystem::path shared_dir() {
  if (const char* env = std::getenv("LOGCLF_SHARED_DIR"); env != nullptr && *env != '\0') return env;
  return LOGCLF_SHARED_DIR;
}

// The path of a file under shared/, or empty when it is absent (the caller skips with a message).
inline std::filesystem::path shared_file(const std::string& relative) {
  const auto path = shared_dir() / relative;
  return std::filesystem::exists(path) ? path : std::filesystem::path();
}

}  // namespace logclf::testing
