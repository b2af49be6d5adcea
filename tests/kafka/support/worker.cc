#include "kafka/support/worker.h"

#include <gtest/gtest.h>

#include <iostream>

namespace logclf::testing {
namespace {

std::vector<std::string> command_line(const std::vector<std::string>& args) {
  std::vector<std::string> argv{cli()};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

std::string joined(const std::vector<std::string>& argv, const EnvVars& env) {
  std::string text;
  for (const auto& [name, value] : env) text += name + "=" + value + " ";
  for (const auto& arg : argv) text += arg + " ";
  return text;
}

}  // namespace

Worker::Worker(const std::vector<std::string>& args, const EnvVars& env)
    : command_(joined(command_line(args), env)), process_(command_line(args), env, log_path(), SIGKILL) {}

Worker::~Worker() {
  if (::testing::Test::HasFailure()) {
    const auto status = process_.wait(std::chrono::milliseconds(0));
    std::cerr << "--- worker " << process_.pid() << ": " << command_ << "\n--- "
              << (status ? "ended with " + status->to_string() : std::string("still running")) << "; the end of its log:\n"
              << tail(log_path(), 200) << "--- end of the log of worker " << process_.pid() << "\n";
  }
}

std::vector<std::string> kafka_args(const std::string& bootstrap, const std::string& input,
                                    const std::string& output, const std::string& group) {
  return {"kafka", "--brokers", bootstrap, "--input-topic", input, "--output-topic", output, "--group", group};
}

}  // namespace logclf::testing
