// A child process of a test (the Kafka broker's start script, a `logclf kafka` worker), in its own process
// group so that a signal reaches everything it started (the script's JVM).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace logclf::testing {

struct ExitStatus {
  int code = -1;   // the exit code, or -1 when a signal ended the process
  int signal = 0;  // the signal that ended it, or 0

  bool exited(int expected) const { return signal == 0 && code == expected; }
  bool killed_by(int expected) const { return signal == expected; }
  std::string to_string() const;
};

using EnvVars = std::vector<std::pair<std::string, std::string>>;

class ChildProcess {
 public:
  // Starts argv[0] (searched on PATH) with the test's environment plus `env`, its standard output and error
  // appended to `log`, standard input /dev/null. `death_signal` is sent to it when the test process dies
  // first (a crash, ctest's timeout), so that no broker or worker outlives the test.
  ChildProcess(const std::vector<std::string>& argv, const EnvVars& env, const std::filesystem::path& log,
               int death_signal);
  // Kills the process group if the process still runs, and reaps it.
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Sends `sig` to the process group; nothing once the process has been reaped.
  void signal(int sig);
  // Waits up to `timeout` for the process to end; nullopt if it still runs.
  std::optional<ExitStatus> wait(std::chrono::milliseconds timeout);
  bool running() { return !wait(std::chrono::milliseconds(0)); }

 private:
  pid_t pid_ = -1;
  std::optional<ExitStatus> status_;
};

// The last `lines` lines of a text file ("" when it cannot be read), for failure messages.
std::string tail(const std::filesystem::path& path, std::size_t lines);

}  // namespace logclf::testing
