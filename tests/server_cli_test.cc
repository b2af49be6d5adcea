// `logclf serve` as a user runs it: a subprocess on a free port, asked for /health, stopped by a signal.
#include <gtest/gtest.h>
#include <httplib.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "support/run.h"

extern char** environ;

namespace logclf {
namespace {

using Clock = std::chrono::steady_clock;

// `logclf serve --port 0 ARGS...` with its standard error on a pipe.
class ServeProcess {
 public:
  explicit ServeProcess(std::vector<std::string> extra) {
    std::vector<std::string> args = {testing::cli(), "serve", "--port", "0"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int fds[2];
    if (::pipe(fds) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    posix_spawn_file_actions_addclose(&actions, fds[1]);
    if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    err_ = fds[0];
  }
  ~ServeProcess() {
    if (pid_ > 0 && !exited_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (err_ >= 0) ::close(err_);
  }

  // Reads standard error until the "serving on" line; returns the port, or 0 after `timeout`.
  int wait_for_port(std::chrono::seconds timeout) {
    static const std::regex serving(R"(logclf: serving on http://127\.0\.0\.1:(\d+)\n)");
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      std::smatch m;
      if (std::regex_search(output_, m, serving)) return std::stoi(m[1]);
      if (!read_some(deadline)) break;
    }
    return 0;
  }

  // Waits for the process to exit; its exit code, or -1 after `timeout`.
  int wait_for_exit(std::chrono::seconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        exited_ = true;
        while (read_some(Clock::now() + std::chrono::milliseconds(100))) {
        }
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -1;
  }

  pid_t pid() const { return pid_; }
  const std::string& output() const { return output_; }

 private:
  bool read_some(Clock::time_point deadline) {
    pollfd p{err_, POLLIN, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0) return false;
    char buffer[4096];
    const ssize_t n = ::read(err_, buffer, sizeof buffer);
    if (n <= 0) return false;
    output_.append(buffer, static_cast<std::size_t>(n));
    return true;
  }

  pid_t pid_ = -1;
  int err_ = -1;
  bool exited_ = false;
  std::string output_;
};

void serve_and_stop_with(int signal) {
  ServeProcess serve({});
  ASSERT_GT(serve.pid(), 0);
  const int port = serve.wait_for_port(std::chrono::seconds(60));
  ASSERT_GT(port, 0) << serve.output();
  httplib::Client client("127.0.0.1", port);
  const auto health = client.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, R"({"status":"ok"})");
  ASSERT_EQ(::kill(serve.pid(), signal), 0);
  EXPECT_EQ(serve.wait_for_exit(std::chrono::seconds(30)), 0) << serve.output();
  EXPECT_NE(serve.output().find("logclf: stopped"), std::string::npos) << serve.output();
}

TEST(ServerCli, ServesOnAFreePortAndExitsZeroOnSigterm) { serve_and_stop_with(SIGTERM); }

TEST(ServerCli, ExitsZeroOnSigint) { serve_and_stop_with(SIGINT); }

TEST(ServerCli, AnAddressInUseIsAnError) {
  httplib::Server holder;
  const int port = holder.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  // `timeout`: were the port shared, the server would run until killed.
  const auto r = testing::run("timeout 60 " + testing::cli() + " serve --port " + std::to_string(port));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("logclf: error: cannot listen on 127.0.0.1 port " + std::to_string(port)), std::string::npos)
      << r.output;
}

}  // namespace
}  // namespace logclf
