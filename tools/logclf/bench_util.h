// What the benchmark commands share: finding the shared material, measuring memory and CPU time, and a
// temporary directory.
#pragma once

#include <string>
#include <string_view>

namespace logclf::cli {

// A file of the shared material: under $LOGCLF_SHARED_DIR, ../shared, ./shared or the one beside the
// checkout this binary was built from; empty when none has it.
std::string shared_path(std::string_view relative);

// "VmRSS" or "VmHWM" of this process in MB.
double process_memory_mb(const std::string& field);

// User + system CPU time of the process: with other processes on the machine, work per CPU-second is what
// the code achieves, whatever share of the cores the process got.
double cpu_seconds();

// Starts a new peak-RSS measurement (Linux: writing 5 to clear_refs resets VmHWM).
void reset_peak_rss();

// A directory removed when the bench ends (random weights, generated inputs and outputs).
class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "logclf-bench");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace logclf::cli
