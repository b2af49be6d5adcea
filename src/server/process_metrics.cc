#include "server/process_metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "logclf/types.h"

namespace logclf::server {

namespace {

std::optional<std::string> read_proc(const char* path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The fields of /proc/self/stat after the command name (which may hold spaces and parentheses): field 3
// (state) is at index 0.
std::vector<std::string_view> stat_fields(std::string_view stat) {
  std::vector<std::string_view> fields;
  const std::size_t close = stat.rfind(')');
  if (close == stat.npos) return fields;
  std::string_view rest = stat.substr(close + 1);
  while (!rest.empty()) {
    const std::size_t start = rest.find_first_not_of(" \n");
    if (start == rest.npos) break;
    rest.remove_prefix(start);
    const std::size_t end = rest.find_first_of(" \n");
    fields.push_back(rest.substr(0, end));
    if (end == rest.npos) break;
    rest.remove_prefix(end);
  }
  return fields;
}

std::optional<double> number(std::string_view text) {
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// The field of /proc/self/stat numbered `n` as in proc(5) (utime is 14).
std::optional<double> stat_field(const std::vector<std::string_view>& fields, std::size_t n) {
  return n >= 3 && n - 3 < fields.size() ? number(fields[n - 3]) : std::nullopt;
}

std::optional<double> boot_time() {
  const auto stat = read_proc("/proc/stat");
  if (!stat) return std::nullopt;
  const std::size_t at = stat->find("\nbtime ");
  if (at == stat->npos) return std::nullopt;
  const std::size_t begin = at + 7, end = stat->find('\n', begin);
  return number(std::string_view(*stat).substr(begin, end - begin));
}

std::optional<double> open_fds() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return std::nullopt;
  double n = 0;
  while (const dirent* entry = ::readdir(dir))
    if (entry->d_name[0] != '.') ++n;
  ::closedir(dir);
  return n - 1;  // the directory stream's own descriptor
}

void series(std::string& out, std::string_view name, std::string_view type, std::string_view help,
            std::optional<double> value) {
  if (!value) return;
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n{} {}\n", name, help, name, type, name, *value);
}

}  // namespace

void append_process_metrics(std::string& out) {
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  const auto stat = read_proc("/proc/self/stat");
  const std::vector<std::string_view> fields = stat ? stat_fields(*stat) : std::vector<std::string_view>();
  std::optional<double> cpu, start, virtual_bytes, resident_bytes;
  if (const auto utime = stat_field(fields, 14), stime = stat_field(fields, 15); utime && stime)
    cpu = (*utime + *stime) / ticks;
  if (const auto since_boot = stat_field(fields, 22), boot = boot_time(); since_boot && boot)
    start = *boot + *since_boot / ticks;
  virtual_bytes = stat_field(fields, 23);
  if (const auto pages = stat_field(fields, 24)) resident_bytes = *pages * page;
  rlimit limit{};
  std::optional<double> max_fds;
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
    max_fds = static_cast<double>(limit.rlim_cur);

  series(out, "process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.", cpu);
  series(out, "process_open_fds", "gauge", "Number of open file descriptors.", open_fds());
  series(out, "process_max_fds", "gauge", "Maximum number of open file descriptors.", max_fds);
  series(out, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", virtual_bytes);
  series(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", resident_bytes);
  series(out, "process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.", start);
  fmt::format_to(std::back_inserter(out),
                 "# HELP logclf_build_info The version of logclf serving.\n# TYPE logclf_build_info gauge\n"
                 "logclf_build_info{{version=\"{}\"}} 1\n",
                 version());
}

}  // namespace logclf::server
