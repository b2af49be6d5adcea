// The streaming pipeline: the same output as classifying record by record, in input order, whatever the
// number of workers and the batch size; errors stop it; a pipe's lines are answered before its end.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/resource.h>
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

// The expected output, written one record at a time without the pipeline; bad records (of a reader with
// keep_bad_records) are written through, or left out with `skip_bad`.
std::string one_by_one(const Classifier& classifier, const std::string& input, const ReadOptions& ro,
                       const WriteOptions& wo, bool skip_bad = false) {
  auto reader = RecordReader::from_string(input, "input", ro);
  auto writer = RecordWriter::to_string(*reader, wo);
  Record r;
  while (reader->next(r)) {
    if (r.error.empty()) {
      writer->write(r, classifier.classify(r.message, r.source));
    } else if (!skip_bad) {
      writer->write(r, Prediction{});
    }
  }
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

TEST(Stream, ABatchEndsAtItsByteBudget) {
  // Ten records of 60 bytes with a budget of 100 bytes: a batch ends with the record that reaches the
  // budget, so batches of two records, five in all, and the output is the same as record by record.
  const Classifier classifier = Classifier::load_default();
  std::string input;
  for (int i = 0; i < 10; ++i) input += "Backup completed successfully on node " + std::string(21, 'a' + i) + "\n";
  ReadOptions ro;
  ro.format = Format::lines;
  WriteOptions wo;
  wo.format = Format::lines;
  auto reader = RecordReader::from_string(input, "input", ro);
  auto writer = RecordWriter::to_string(*reader, wo);
  StreamOptions options;
  options.batch_bytes = 100;
  std::vector<std::uint64_t> lines_after_batch;
  options.on_batch = [&](const StreamStats& s) { lines_after_batch.push_back(s.lines); };
  classify_stream(classifier, *reader, *writer, nullptr, options);
  EXPECT_EQ(lines_after_batch, (std::vector<std::uint64_t>{2, 4, 6, 8, 10}));
  EXPECT_EQ(writer->str(), one_by_one(classifier, input, ro, wo));
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

// Inputs of each format with bad records among good ones: (input, read options, how many records, the
// lines of the bad ones).
struct BadInput {
  std::string text;
  ReadOptions options;
  std::uint64_t records = 0;
  std::vector<std::uint64_t> bad_lines;
};

std::vector<BadInput> inputs_with_bad_records() {
  std::vector<BadInput> inputs(3);
  BadInput& csv = inputs[0];
  BadInput& jsonl = inputs[1];
  BadInput& lines = inputs[2];
  csv.text = "source,log_message\n";
  jsonl.options.format = Format::jsonl;
  lines.options.format = Format::lines;
  lines.options.strict_utf8 = true;
  const auto rows = corpus::generate({400, 3});
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const std::string& m = rows[i].message;
    const bool bad = i % 37 == 5;
    std::string quoted = "\"";
    for (const char c : m) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    quoted += '"';
    csv.text += bad ? "x,\"unbalanced\" quote\n" : rows[i].source + "," + quoted + "\n";
    jsonl.text += bad ? (i % 2 ? "{\"log_message\": broken\n" : "{\"other\":1}\n")
                      : nlohmann::json{{"log_message", m}, {"source", rows[i].source}}.dump() + "\n";
    lines.text += bad ? "bad \xff byte\n" : m + "\n";
    for (BadInput* in : {&csv, &jsonl, &lines}) {
      ++in->records;
      if (bad) in->bad_lines.push_back(in == &csv ? i + 2 : i + 1);
    }
  }
  for (BadInput& in : inputs) in.options.keep_bad_records = true;
  return inputs;
}

// --on-error pass and skip: every record is written or counted, in input order, whatever the workers and
// batches; the errors name the bad records' lines.
TEST(Stream, OnErrorPassAndSkipKeepEveryRecordInOrder) {
  const Classifier classifier = Classifier::load_default();
  for (const BadInput& in : inputs_with_bad_records()) {
    const std::string format(to_string(in.options.format));
    for (const OnError on_error : {OnError::pass, OnError::skip}) {
      WriteOptions wo;
      wo.format = in.options.format;
      wo.explain = true;
      wo.error_column = on_error == OnError::pass;
      const std::string expected = one_by_one(classifier, in.text, in.options, wo, on_error == OnError::skip);
      for (const int workers : {1, 3}) {
        for (const std::size_t batch : {std::size_t{1}, std::size_t{16}, std::size_t{1024}}) {
          auto reader = RecordReader::from_string(in.text, "input", in.options);
          auto writer = RecordWriter::to_string(*reader, wo);
          StreamOptions options;
          options.workers = workers;
          options.batch_lines = batch;
          options.on_error = on_error;
          MessageCache cache({CacheMode::exact, 100});
          const StreamStats s = classify_stream(classifier, *reader, *writer, &cache, options);
          const std::string where = format + ", " + std::to_string(workers) + " workers, batches of " + std::to_string(batch);
          EXPECT_EQ(writer->str(), expected) << where;
          const std::uint64_t bad = in.bad_lines.size();
          EXPECT_EQ(s.bad_records, bad) << where;
          EXPECT_EQ(s.lines + s.bad_records, in.records) << where;
          EXPECT_EQ(s.per_stage[0] + s.per_stage[1] + s.per_stage[2], s.lines) << where;
          ASSERT_EQ(s.first_errors.size(), std::min<std::size_t>(bad, StreamStats::kFirstErrors)) << where;
          for (std::size_t k = 0; k < s.first_errors.size(); ++k) {
            EXPECT_EQ(s.first_errors[k].rfind("input:" + std::to_string(in.bad_lines[k]) + ": ", 0), 0u)
                << s.first_errors[k] << ", " << where;
          }
          // Rows out: every record with pass, the good ones with skip (csv: and the header).
          std::uint64_t rows = std::count(writer->str().begin(), writer->str().end(), '\n');
          if (in.options.format == Format::csv) --rows;
          EXPECT_EQ(rows, on_error == OnError::pass ? in.records : in.records - bad) << where;
        }
      }
    }
  }
}

TEST(Stream, OnErrorFailStopsAtTheFirstBadRecordEvenWhenTheReaderKeepsIt) {
  const Classifier classifier = Classifier::load_default();
  const BadInput in = inputs_with_bad_records()[1];
  auto reader = RecordReader::from_string(in.text, "input", in.options);
  auto writer = RecordWriter::to_string(*reader, WriteOptions{Format::jsonl, false});
  try {
    classify_stream(classifier, *reader, *writer);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("input:6: invalid JSON: ", 0), 0u) << e.what();
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

// Writes all of `text`, retrying short writes; false when the reader has gone.
[[maybe_unused]] bool write_fully(int fd, std::string_view text) {  // unused under the sanitizers
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

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

// Starts `logclf classify - ARGS...` on two pipes: `input` writes its standard input, `output` reads its
// standard output. Returns its pid (-1 on failure).
pid_t spawn_classify(std::vector<std::string> args, int& input, int& output) {
  int to_child[2], from_child[2];
  if (::pipe2(to_child, O_CLOEXEC) != 0) return -1;
  if (::pipe2(from_child, O_CLOEXEC) != 0) return -1;
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(to_child[0], STDIN_FILENO);
    ::dup2(from_child[1], STDOUT_FILENO);
    args.insert(args.begin(), {testing::cli(), "classify", "-"});
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(to_child[0]);
  ::close(from_child[1]);
  input = to_child[1];
  output = from_child[0];
  return pid;
}

pid_t spawn_classify_lines(int& input, int& output) {
  return spawn_classify({"--format", "lines", "-q"}, input, output);
}

// Peak memory of `classify` is bounded by bytes whatever the line lengths: lines of 1 KB, 64 KB and 1 MB
// (up to 300 MB of input through a pipe) each stay under the ceiling README documents.
TEST(StreamCli, PeakMemoryStaysBoundedWhateverTheLineLength) {
#if defined(LOGCLF_SANITIZE)
  GTEST_SKIP() << "SKIPPED under the sanitizers: their shadow memory makes resident sizes meaningless";
#else
  constexpr long kCeilingKiB = 256 * 1024;
  struct sigaction ignore{}, old{};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ignore, &old);  // a child that dies early fails the test, not the test program
  struct Case {
    const char* name;
    std::size_t bytes, lines;
  };
  for (const Case c : {Case{"1 KB", 1 << 10, 60000}, Case{"64 KB", 64 << 10, 1500}, Case{"1 MB", 1 << 20, 300}}) {
    int to_child, from_child;
    const pid_t pid = spawn_classify_lines(to_child, from_child);
    ASSERT_GT(pid, 0);
    std::thread feed([&] {
      std::string line;
      for (std::size_t i = 0; i < c.lines; ++i) {
        line = "User" + std::to_string(i) + " login failed from 10.0.0.1 ";
        while (line.size() + 1 < c.bytes) line += "retrying connection to db-" + std::to_string(line.size()) + " ";
        line.resize(c.bytes - 1);
        line += '\n';
        if (!write_fully(to_child, line)) break;
      }
      ::close(to_child);
    });
    std::size_t rows = 0;
    char buffer[1 << 16];
    for (ssize_t n; (n = ::read(from_child, buffer, sizeof buffer)) > 0;) rows += std::count(buffer, buffer + n, '\n');
    feed.join();
    ::close(from_child);
    int status = -1;
    rusage usage{};
    ASSERT_EQ(::wait4(pid, &status, 0, &usage), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    EXPECT_EQ(rows, c.lines);
    std::printf("peak RSS of classify, %zu lines of %s: %.1f MB\n", c.lines, c.name, usage.ru_maxrss / 1024.0);
    EXPECT_LT(usage.ru_maxrss, kCeilingKiB) << c.name << " lines";
  }
  ::sigaction(SIGPIPE, &old, nullptr);
#endif
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

// `tail -F app.log | logclf classify --format jsonl --on-error pass -`: a bad line is answered with its
// error and the stream goes on.
TEST(StreamCli, KeepsStreamingAfterABadJsonLine) {
  int to_child, from_child;
  const pid_t pid = spawn_classify({"--format", "jsonl", "--on-error", "pass", "-q"}, to_child, from_child);
  ASSERT_GT(pid, 0);
  put(to_child, "{\"log_message\":\"User User9 logged out.\"}\n");
  EXPECT_EQ(take_lines(from_child, 1, 20), "{\"log_message\":\"User User9 logged out.\",\"predicted_label\":\"User Action\"}\n");
  put(to_child, "{\"log_message\": cut off\n");
  const std::string bad = take_lines(from_child, 1, 20);
  ASSERT_FALSE(bad.empty());
  const auto doc = nlohmann::json::parse(bad);
  EXPECT_EQ(doc["raw"], "{\"log_message\": cut off");
  EXPECT_TRUE(doc["predicted_label"].is_null());
  EXPECT_EQ(doc["error"].get<std::string>().rfind("<stdin>:2: invalid JSON: ", 0), 0u) << bad;
  put(to_child, "{\"message\":\"Backup completed successfully.\"}\n");  // Vector's name for the message
  EXPECT_EQ(take_lines(from_child, 1, 20),
            "{\"message\":\"Backup completed successfully.\",\"predicted_label\":\"System Notification\"}\n");
  ::close(to_child);
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
