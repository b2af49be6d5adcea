// `logclf serve` as a user runs it: a subprocess on a free port, asked for /health, stopped by a signal.
#include <gtest/gtest.h>
#include <httplib.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "logclf/classifier.h"
#include "support/run.h"

extern char** environ;

namespace logclf {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

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
  // Reads standard error until `text` appears in it after `from`; false after `timeout`.
  bool wait_for_output(const std::string& text, std::size_t from, std::chrono::seconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (output_.find(text, from) == std::string::npos)
      if (!read_some(deadline)) return false;
    return true;
  }

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
  // The HTTP pool and the encoder's threads are named apart (--threads means the encoder's on every verb).
  ServeProcess serve({"--http-threads", "4", "--threads", "1"});
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

// SIGHUP loads the bundle again and serves it; a bundle that does not load leaves the previous model
// serving (and says why); the access log is reopened, so logrotate can move it away.
TEST(ServerCli, SighupReloadsTheModelKeepsTheOldOneWhenTheNewIsBadAndReopensTheAccessLog) {
  const testing::TempDir dir;
  const std::string model = dir / "model", log = dir / "access.jsonl";
  Classifier classifier = Classifier::load_default();
  classifier.save(model);
  ServeProcess serve({"-m", model, "--access-log", log});
  ASSERT_GT(serve.pid(), 0);
  const int port = serve.wait_for_port(std::chrono::seconds(60));
  ASSERT_GT(port, 0) << serve.output();
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(30);
  const std::string message = "Email service experiencing issues with sending";  // decided by the model
  const auto label = [&] {
    const auto r = client.Post("/classify_log/?log_message=" + httplib::detail::encode_query_param(message));
    return r && r->status == 200 ? json::parse(r->body).at("predicted_label").get<std::string>() : "(failed)";
  };
  const auto threshold = [&] {
    const auto r = client.Get("/v1/model");
    return r && r->status == 200 ? json::parse(r->body).at("threshold").get<double>() : -1.0;
  };
  const Prediction before = classifier.classify(message);
  ASSERT_EQ(before.stage, Stage::model);
  EXPECT_EQ(label(), before.label);

  // A new bundle in place: served after SIGHUP.
  classifier.set_threshold(1.0);
  classifier.save(model);
  std::size_t seen = serve.output().size();
  ASSERT_EQ(::kill(serve.pid(), SIGHUP), 0);
  ASSERT_TRUE(serve.wait_for_output("logclf: SIGHUP: model reloaded from " + model, seen, std::chrono::seconds(60)))
      << serve.output();
  EXPECT_EQ(threshold(), 1.0);
  EXPECT_EQ(label(), kUncertainLabel);

  // A broken bundle: the model loaded last keeps serving.
  std::ofstream(dir / "model/head.bin", std::ios::binary | std::ios::trunc) << "garbage";
  seen = serve.output().size();
  ASSERT_EQ(::kill(serve.pid(), SIGHUP), 0);
  ASSERT_TRUE(serve.wait_for_output("logclf: SIGHUP: model not reloaded, still serving the previous one: ", seen,
                              std::chrono::seconds(60)))
      << serve.output();
  EXPECT_NE(serve.output().find("head.bin", seen), std::string::npos) << serve.output();
  EXPECT_EQ(threshold(), 1.0);
  EXPECT_EQ(label(), kUncertainLabel);

  // The access log moved away (as logrotate does) and reopened on SIGHUP: new lines go to a new file.
  const std::string rotated = dir / "access.jsonl.1";
  ASSERT_EQ(std::rename(log.c_str(), rotated.c_str()), 0);
  seen = serve.output().size();
  ASSERT_EQ(::kill(serve.pid(), SIGHUP), 0);
  ASSERT_TRUE(serve.wait_for_output("logclf: SIGHUP: model not reloaded", seen, std::chrono::seconds(60)))
      << serve.output();
  ASSERT_TRUE(client.Get("/health"));
  ASSERT_EQ(::kill(serve.pid(), SIGTERM), 0);
  EXPECT_EQ(serve.wait_for_exit(std::chrono::seconds(30)), 0) << serve.output();

  const auto read_lines = [](const std::string& path) {
    std::vector<json> out;
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
    return out;
  };
  const std::vector<json> old_lines = read_lines(rotated), new_lines = read_lines(log);
  // Before the move: classify, then model and classify after each of the two reloads.
  ASSERT_EQ(old_lines.size(), 5u);
  const json& first = old_lines.front();
  EXPECT_EQ(first.at("client"), "127.0.0.1");
  EXPECT_EQ(first.at("method"), "POST");
  EXPECT_EQ(first.at("path"), "/classify_log/");  // the query (the log message) is not logged
  EXPECT_EQ(first.at("status"), 200);
  EXPECT_EQ(first.at("request_bytes"), 0);
  EXPECT_GT(first.at("response_bytes").get<int>(), static_cast<int>(message.size()));
  EXPECT_GE(first.at("duration_ms").get<double>(), 0.0);
  EXPECT_TRUE(first.at("user_agent").get<std::string>().starts_with("cpp-httplib/")) << first;
  EXPECT_TRUE(std::regex_match(first.at("time").get<std::string>(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")))
      << first;
  EXPECT_EQ(old_lines[1].at("path"), "/v1/model");
  ASSERT_EQ(new_lines.size(), 1u);
  EXPECT_EQ(new_lines[0].at("path"), "/health");
  EXPECT_EQ(new_lines[0].at("response_bytes"), std::string_view(R"({"status":"ok"})").size());
}

void write_text(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

std::string logs_body(int n) {
  json logs = json::array();
  for (int i = 0; i < n; ++i) logs.push_back({{"log_message", "Disk usage at 9" + std::to_string(i) + "%"}});
  return json{{"logs", logs}}.dump();
}

// --config FILE (YAML here) gives what the command line does not; what the command line gives wins.
TEST(ServerCli, AConfigFileSetsTheOptionsTheCommandLineLeavesUnset) {
  const testing::TempDir dir;
  const std::string config = dir / "serve.yaml";
  write_text(config,
             "# logclf serve\n"
             "api-key: k1\n"
             "max_lines: 2          # read as max-lines\n"
             "port: 1               # the command line's --port 0 wins\n"
             "fastapi-errors: true\n"
             "max-body: 64KiB\n");
  ServeProcess serve({"--config", config, "--max-lines", "3"});
  ASSERT_GT(serve.pid(), 0);
  const int port = serve.wait_for_port(std::chrono::seconds(60));
  ASSERT_GT(port, 1) << serve.output();
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(30);
  const auto locked = client.Get("/v1/model");
  ASSERT_TRUE(locked);
  EXPECT_EQ(locked->status, 401);  // api-key from the file
  client.set_bearer_token_auth("k1");
  const auto three = client.Post("/v1/classify", logs_body(3), "application/json");
  ASSERT_TRUE(three);
  EXPECT_EQ(three->status, 200) << three->body;  // --max-lines 3 on the command line, not the file's 2
  const auto four = client.Post("/v1/classify", logs_body(4), "application/json");
  ASSERT_TRUE(four);
  EXPECT_EQ(four->status, 413);
  const auto big = client.Post("/v1/classify", std::string(64 * 1024 + 1, ' '), "application/json");
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 413);  // max-body: 64KiB, through the option's own size parser
  const auto missing = client.Post("/classify_log/");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 422);  // fastapi-errors: true
  EXPECT_EQ(json::parse(missing->body).at("detail").at(0).at("type"), "missing") << missing->body;
  ASSERT_EQ(::kill(serve.pid(), SIGTERM), 0);
  EXPECT_EQ(serve.wait_for_exit(std::chrono::seconds(30)), 0) << serve.output();
}

// A TOML key/value file does the same; a bad file is a usage error (exit 2) naming the file and line.
TEST(ServerCli, AConfigFileIsCheckedLineByLine) {
  const testing::TempDir dir;
  const auto serve_with = [&](const std::string& name, const std::string& text) {
    write_text(dir / name, text);
    // A file that is wrongly accepted would leave the server running: `timeout` ends it.
    return testing::run("timeout 30 " + testing::cli() + " serve --port 0 --config " + (dir / name) + " </dev/null");
  };
  struct Case {
    std::string file, text, error;
  };
  const std::vector<Case> cases = {
      {"typo.yaml", "port: 0\nmax-line: 5\n", "typo.yaml:2: 'max-line' is no option of logclf serve; did you mean 'max-lines'?"},
      {"range.yaml", "\n\nbatch-lines: 5000\n", "range.yaml:3: --batch-lines: Value 5000 not in range 1 to 4096"},
      {"list.yaml", "host: [a, b]\n", "list.yaml:1: host takes one value, not a list"},
      {"null.yaml", "host:\n", "null.yaml:1: host has no value"},
      {"nested.yaml", "host:\n  a: 1\n", "nested.yaml:1: 'host' holds a mapping, but only these sections may: none"},
      {"broken.yaml", "host: [a\n", "broken.yaml:2: invalid YAML"},
      {"scalar.yaml", "just text\n", "scalar.yaml: expected a mapping of option names to values"},
      {"itself.yaml", "config: other.yaml\n", "itself.yaml:1: 'config' is no option of logclf serve\n"},
      {"typo.toml", "# serve\nport = 0\nmax-line = 5\n", "typo.toml:3: 'max-line' is no option of logclf serve"},
      {"nonsense.conf", "port 0\n", "nonsense.conf:1: expected name = value"},
      {"quote.toml", "host = \"127.0.0.1\n", "quote.toml:1: host: unterminated quoted value"},
      {"section.toml", "[properties]\n", "section.toml:1: unknown section [properties] (sections: none)"},
  };
  for (const Case& c : cases) {
    const testing::CommandResult r = serve_with(c.file, c.text);
    EXPECT_EQ(r.status, 2) << c.file << ": " << r.output;
    EXPECT_NE(r.output.find("logclf: error: " + (dir / c.error)), std::string::npos) << c.file << ": " << r.output;
  }
  const testing::CommandResult absent = testing::run(testing::cli() + " serve --config " + (dir / "absent.yaml"));
  EXPECT_EQ(absent.status, 2);
  EXPECT_NE(absent.output.find("cannot read the config file"), std::string::npos) << absent.output;
}

// The TOML form with quoted values and comments, through to a running server.
TEST(ServerCli, ATomlConfigFileServes) {
  const testing::TempDir dir;
  const std::string config = dir / "serve.toml";
  write_text(config, "# logclf serve\napi-key = \"a # not a comment\"   # a comment\nmax_lines = 1\n");
  ServeProcess serve({"--config", config});
  ASSERT_GT(serve.pid(), 0);
  const int port = serve.wait_for_port(std::chrono::seconds(60));
  ASSERT_GT(port, 0) << serve.output();
  httplib::Client client("127.0.0.1", port);
  client.set_bearer_token_auth("a # not a comment");
  const auto one = client.Post("/v1/classify", logs_body(1), "application/json");
  ASSERT_TRUE(one);
  EXPECT_EQ(one->status, 200) << one->body;
  const auto two = client.Post("/v1/classify", logs_body(2), "application/json");
  ASSERT_TRUE(two);
  EXPECT_EQ(two->status, 413);
}

}  // namespace
}  // namespace logclf
