// The streaming pipeline: the same output as classifying record by record, in input order, whatever the
// number of workers and the batch size; errors stop it; a pipe's lines are answered before its end.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <fstream>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "logclf/cache.h"
#include "logclf/classifier.h"
#include "logclf/corpus.h"
#include "logclf/io.h"
#include "logclf/stream.h"
#include "support/run.h"

namespace logclf {
namespace {

// The expected output, written one record at a time without the pipeline.
std::string one_by_one(const Classifier& classifier, const std::string& input, const ReadOptions& ro,
                       const WriteOptions& wo) {
  auto reader = RecordReader::from_string(input, "input", ro);
  auto writer = RecordWriter::to_string(*reader, wo);
  Record r;
  while (reader->next(r)) writer->write(r, classifier.classify(r.message, r.source));
  writer->commit();
  return writer->str();
}

std::string corpus_csv(std::size_t n) {
  return corpus::generate_csv({n, 5});
}

TEST(Stream, SameOutputInInputOrderForAnyWorkersBatchesAndCache) {
  const Classifier classifier = Classifier::load_default();
  const std::string input = corpus_csv(3000);
  ReadOptions ro;
  WriteOptions wo;
  wo.explain = true;
  const std::string expected = one_by_one(classifier, input, ro, wo);
  for (const int workers : {1, 2, 5}) {
    for (const std::size_t batch : {std::size_t{1}, std::size_t{7}, std::size_t{1024}}) {
      for (const CacheMode mode : {CacheMode::off, CacheMode::exact}) {
        auto reader = RecordReader::from_string(input, "input", ro);
        auto writer = RecordWriter::to_string(*reader, wo);
        MessageCache cache({mode, 50});
        StreamOptions options;
        options.workers = workers;
        options.batch_lines = batch;
        std::uint64_t batches = 0;
        options.on_batch = [&](const StreamStats&) { ++batches; };
        const StreamStats s = classify_stream(classifier, *reader, *writer, &cache, options);
        EXPECT_EQ(writer->str(), expected) << workers << " workers, batches of " << batch;
        EXPECT_EQ(s.lines, 3000u);
        EXPECT_EQ(s.per_stage[0] + s.per_stage[1] + s.per_stage[2], 3000u);
        std::uint64_t labelled = 0;
        for (const auto& [label, n] : s.per_label) labelled += n;
        EXPECT_EQ(labelled, 3000u);
        EXPECT_EQ(batches, (3000 + batch - 1) / batch);
        if (mode == CacheMode::exact) {
          EXPECT_EQ(s.cache.lookups, 3000u);
        } else {
          EXPECT_EQ(s.cache.lookups, 0u);
        }
      }
    }
  }
}

TEST(Stream, JsonLinesAndPlainLines) {
  const Classifier classifier = Classifier::load_default();
  std::string jsonl, lines;
  for (const auto& r : corpus::generate({500, 9})) {
    jsonl += nlohmann::json{{"log_message", r.message}, {"host", "h1"}}.dump() + "\n";
    lines += r.message + "\n";
  }
  for (const auto& [input, format] : {std::pair{jsonl, Format::jsonl}, std::pair{lines, Format::lines}}) {
    ReadOptions ro;
    ro.format = format;
    WriteOptions wo;
    wo.format = format;
    auto reader = RecordReader::from_string(input, "input", ro);
    auto writer = RecordWriter::to_string(*reader, wo);
    MessageCache cache({CacheMode::template_key, 1000});
    StreamOptions options;
    options.batch_lines = 33;
    classify_stream(classifier, *reader, *writer, &cache, options);
    // Template caching may change a model label in principle; on these lines it does not.
    EXPECT_EQ(writer->str(), one_by_one(classifier, input, ro, wo));
  }
}

TEST(Stream, ABadRecordStopsItWithItsLine) {
  const Classifier classifier = Classifier::load_default();
  std::string input = corpus_csv(2000);
  input += "2025-01-01,api,\"never closed\n";
  ReadOptions ro;
  auto reader = RecordReader::from_string(input, "bad.csv", ro);
  auto writer = RecordWriter::to_string(*reader, WriteOptions{});
  StreamOptions options;
  options.batch_lines = 100;
  try {
    classify_stream(classifier, *reader, *writer, nullptr, options);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.csv:2002"), std::string::npos) << e.what();
  }
}

TEST(Stream, AStopRequestEndsTheInputAndKeepsWhatWasRead) {
  const Classifier classifier = Classifier::load_default();
  const std::string input = corpus_csv(5000);
  auto reader = RecordReader::from_string(input, "input", ReadOptions{});
  auto writer = RecordWriter::to_string(*reader, WriteOptions{});
  std::atomic<bool> stop{false};
  StreamOptions options;
  options.batch_lines = 10;
  options.workers = 1;
  options.stop = &stop;
  options.on_batch = [&](const StreamStats& s) {
    if (s.lines >= 100) stop = true;
  };
  const StreamStats s = classify_stream(classifier, *reader, *writer, nullptr, options);
  EXPECT_GE(s.lines, 100u);
  EXPECT_LT(s.lines, 5000u);
  // Every line read was written, in order: the output is the expected output's first lines.
  const std::string expected = one_by_one(classifier, input, ReadOptions{}, WriteOptions{});
  EXPECT_EQ(expected.compare(0, writer->str().size(), writer->str()), 0);
  std::size_t rows = 0;
  for (char c : writer->str()) rows += c == '\n';
  EXPECT_EQ(rows, s.lines + 1);  // and the header
}

// Writes `text` to a pipe's write end.
void put(int fd, const std::string& text) { ASSERT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size())); }

// Reads from `fd` until `lines` newlines arrived or `seconds` passed.
std::string take_lines(int fd, int lines, double seconds) {
  std::string out;
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::count(out.begin(), out.end(), '\n') < lines && std::chrono::steady_clock::now() < end) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    char buffer[4096];
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n <= 0) break;
    out.append(buffer, static_cast<std::size_t>(n));
  }
  return out;
}

// Starts `logclf classify - --format lines -q` on two pipes: `input` writes its standard input, `output`
// reads its standard output. Returns its pid (-1 on failure).
pid_t spawn_classify_lines(int& input, int& output) {
  int to_child[2], from_child[2];
  if (::pipe2(to_child, O_CLOEXEC) != 0) return -1;
  if (::pipe2(from_child, O_CLOEXEC) != 0) return -1;
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(to_child[0], STDIN_FILENO);
    ::dup2(from_child[1], STDOUT_FILENO);
    const std::string cli = testing::cli();
    ::execl(cli.c_str(), cli.c_str(), "classify", "-", "--format", "lines", "-q", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(to_child[0]);
  ::close(from_child[1]);
  input = to_child[1];
  output = from_child[0];
  return pid;
}

TEST(StreamCli, AnswersEachLineOfAPipeBeforeTheInputEnds) {
  // logclf reads a pipe that stays open: each line written must come back while the pipe is still open.
  int to_child, from_child;
  const pid_t pid = spawn_classify_lines(to_child, from_child);
  ASSERT_GT(pid, 0);
  put(to_child, "User User9 logged out.\n");
  EXPECT_EQ(take_lines(from_child, 1, 20), "User Action\tUser User9 logged out.\n");
  put(to_child, "Backup completed successfully.\nUser User7 logged in.\n");
  EXPECT_EQ(take_lines(from_child, 2, 20),
            "System Notification\tBackup completed successfully.\nUser Action\tUser User7 logged in.\n");
  ::close(to_child);  // end of input: logclf ends by itself
  EXPECT_EQ(take_lines(from_child, 1, 20), "");
  int status = -1;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  ::close(from_child);
}

TEST(StreamCli, InterruptWritesWhatWasReadAndExits130) {
  int to_child, from_child;
  const pid_t pid = spawn_classify_lines(to_child, from_child);
  ASSERT_GT(pid, 0);
  put(to_child, "User User9 logged out.\n");
  EXPECT_EQ(take_lines(from_child, 1, 20), "User Action\tUser User9 logged out.\n");
  // The writer of the pipe stays silent (like `tail -F` on a quiet file): SIGINT still ends logclf.
  ::kill(pid, SIGINT);
  int status = -1;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 130) << status;
  ::close(to_child);
  ::close(from_child);
}

TEST(StreamCli, ABrokenPipeEndsItQuietly) {
  // `logclf classify big | head -n 2`: logclf ends when head has what it wanted, without an error message.
  testing::TempDir dir;
  {
    std::ofstream out(dir / "big.csv");
    out << corpus_csv(200000);
  }
  const auto start = std::chrono::steady_clock::now();
  const auto r = testing::run("(" + testing::cli() + " classify " + (dir / "big.csv") + " 2>" + (dir / "err.txt") +
                              "; echo $? >" + (dir / "status.txt") + ") | head -n 2");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(60));
  EXPECT_EQ(r.output.rfind("timestamp,source,log_message,target_label,predicted_label\n", 0), 0u) << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 2) << r.output;
  EXPECT_EQ(testing::read_text(dir / "status.txt"), "141\n");  // SIGPIPE, as for any filter
  EXPECT_EQ(testing::read_text(dir / "err.txt"), "");
}

TEST(StreamCli, ClassifyReportsTheCacheAndItsModesAgree) {
  testing::TempDir dir;
  {
    std::ofstream out(dir / "in.csv");
    const std::string rows = corpus_csv(2000);
    out << rows;
    out << rows.substr(rows.find('\n') + 1);  // every row twice
  }
  std::string outputs[3];
  const char* modes[] = {"off", "exact", "template"};
  for (int m = 0; m < 3; ++m) {
    const auto r = testing::run(testing::cli() + " classify " + (dir / "in.csv") + " -o " + (dir / "out.csv") +
                                " --cache " + modes[m] + " --cache-size 100000");
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("classified 4000 lines"), std::string::npos) << r.output;
    if (m == 0) {
      EXPECT_EQ(r.output.find("cache ("), std::string::npos) << r.output;
    } else {
      EXPECT_NE(r.output.find(std::string("cache (") + modes[m] + "): "), std::string::npos) << r.output;
    }
    outputs[m] = testing::read_text(dir / "out.csv");
  }
  EXPECT_EQ(outputs[0], outputs[1]);
  const auto r = testing::run(testing::cli() + " classify " + (dir / "in.csv") + " --cache lru");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("--cache"), std::string::npos) << r.output;
}

TEST(StreamCli, EvaluateMeasuresACacheMode) {
  testing::TempDir dir;
  {
    std::ofstream out(dir / "labelled.csv");
    const std::string rows = corpus_csv(1000);
    out << rows << rows.substr(rows.find('\n') + 1);
  }
  const auto plain = testing::run(testing::cli() + " evaluate " + (dir / "labelled.csv") + " --json");
  const auto exact = testing::run(testing::cli() + " evaluate " + (dir / "labelled.csv") + " --json --cache exact");
  ASSERT_EQ(plain.status, 0) << plain.output;
  ASSERT_EQ(exact.status, 0) << exact.output;
  const auto a = nlohmann::json::parse(plain.output), b = nlohmann::json::parse(exact.output);
  EXPECT_EQ(a["hybrid"], b["hybrid"]);
  EXPECT_EQ(a["cache"]["mode"], "off");
  EXPECT_EQ(b["cache"]["mode"], "exact");
  EXPECT_EQ(b["cache"]["lookups"], 2000);
  EXPECT_GE(b["cache"]["hits"].get<int>(), 1000);
  const auto text = testing::run(testing::cli() + " evaluate " + (dir / "labelled.csv") + " --cache template");
  ASSERT_EQ(text.status, 0) << text.output;
  EXPECT_NE(text.output.find("Cache (template): "), std::string::npos) << text.output;
}

}  // namespace
}  // namespace logclf
