// A `logclf kafka` worker run by a test as a separate process, as it runs in production.
#pragma once

#include <chrono>
#include <csignal>
#include <optional>
#include <string>
#include <vector>

#include "kafka/support/child_process.h"
#include "support/run.h"

namespace logclf::testing {

class Worker {
 public:
  // Runs `logclf ARGS...` with the test's environment plus `env`; its stdout and stderr go to a log file.
  explicit Worker(const std::vector<std::string>& args, const EnvVars& env = {});
  // SIGKILLs the worker if it still runs. When the test has failed, prints the worker's log first.
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void terminate() { process_.signal(SIGTERM); }
  void kill9() { process_.signal(SIGKILL); }
  std::optional<ExitStatus> wait(std::chrono::milliseconds timeout) { return process_.wait(timeout); }
  bool running() { return process_.running(); }
  // What it wrote to stdout and stderr so far.
  std::string log() const { return read_text(log_path()); }

 private:
  std::string log_path() const { return dir_ / "worker.log"; }

  std::string command_;
  TempDir dir_;
  ChildProcess process_;
};

// The arguments of a worker reading `input` and writing `output` in consumer group `group`.
std::vector<std::string> kafka_args(const std::string& bootstrap, const std::string& input,
                                    const std::string& output, const std::string& group);

}  // namespace logclf::testing
