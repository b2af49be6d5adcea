#include "bench_util.h"

#include <stdlib.h>
#include <sys/resource.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <vector>

#include "logclf/types.h"

namespace logclf::cli {

namespace fs = std::filesystem;

std::string shared_path(std::string_view relative) {
  std::vector<fs::path> roots;
  if (const char* env = std::getenv("LOGCLF_SHARED_DIR"); env != nullptr && *env != '\0') roots.emplace_back(env);
  roots.emplace_back("../shared");
  roots.emplace_back("shared");
#ifdef LOGCLF_CHECKOUT_SHARED_DIR
  roots.emplace_back(LOGCLF_CHECKOUT_SHARED_DIR);
#endif
  for (const fs::path& root : roots) {
    std::error_code ec;
    if (fs::exists(root / relative, ec)) return (root / relative).string();
  }
  return "";
}

double process_memory_mb(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field + ":", 0) == 0) return std::strtod(line.c_str() + field.size() + 1, nullptr) / 1024.0;
  return 0.0;
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

void reset_peak_rss() { std::ofstream("/proc/self/clear_refs") << "5"; }

TempDir::TempDir(std::string_view prefix) {
  std::string pattern = (fs::temp_directory_path() / (std::string(prefix) + "-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) throw Error("cannot create a temporary directory");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

}  // namespace logclf::cli
