// End-to-end tests of the logclf binary: what a user types and what they get back.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <set>
#include <sstream>
#include <nlohmann/json.hpp>

#include "logclf/io.h"
#include "logclf/types.h"
#include "support/paths.h"
#include "support/run.h"

namespace logclf {
namespace {

using testing::cli;
using testing::read_text;
using testing::run;
using testing::TempDir;

std::string example() { return (testing::source_dir() / "examples/example.csv").string(); }

std::vector<Record> read_all(const std::string& path) {
  auto reader = RecordReader::open(path, ReadOptions{});
  std::vector<Record> out;
  Record r;
  while (reader->next(r)) out.push_back(r);
  return out;
}

TEST(Cli, ClassifyExampleKeepsEveryRowAndColumn) {
  TempDir dir;
  const auto r = run(cli() + " classify " + example() + " -o " + (dir / "out.csv") + " --explain");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("by stage: rule"), std::string::npos) << r.output;
  ReadOptions options;
  auto in = RecordReader::open(example(), options);
  auto out = RecordReader::open(dir / "out.csv", options);
  EXPECT_EQ(out->columns(), (std::vector<std::string>{"timestamp", "source", "log_message", "predicted_label",
                                                      "stage", "rule", "confidence"}));
  Record a, b;
  std::size_t rows = 0;
  while (in->next(a)) {
    ASSERT_TRUE(out->next(b));
    EXPECT_EQ(a.message, b.message);
    EXPECT_EQ(a.fields[0], b.fields[0]);
    ++rows;
  }
  EXPECT_FALSE(out->next(b));
  EXPECT_EQ(rows, 15u);
  const auto records = read_all(dir / "out.csv");
  EXPECT_EQ(records[4].fields[3], "User Action");  // "User User1042 logged in."
  EXPECT_EQ(records[4].fields[4], "rule");
  EXPECT_EQ(records[4].fields[5], "user-login-logout");
  EXPECT_EQ(records[2].fields[3], "Security Alert");  // sshd failed password
}

TEST(Cli, ClassifyStdinLinesToStdout) {
  const auto r = run("printf 'User User9 logged out.\\nBackup completed successfully.\\n' | " + cli() +
                     " classify - --format lines -q");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "User Action\tUser User9 logged out.\nSystem Notification\tBackup completed successfully.\n");
}

TEST(Cli, ClassifyJsonLinesKeepsOtherFields) {
  TempDir dir;
  std::ofstream(dir / "in.jsonl") << R"({"log_message": "User User3 logged in.", "host": "web-1"})" << "\n";
  const auto r = run(cli() + " classify " + (dir / "in.jsonl") + " -q");
  ASSERT_EQ(r.status, 0) << r.output;
  const auto doc = nlohmann::json::parse(r.output);
  EXPECT_EQ(doc["host"], "web-1");
  EXPECT_EQ(doc["predicted_label"], "User Action");
}

TEST(Cli, SharedTestCsvWithBlanksAfterCommas) {
  const auto path = testing::shared_file("data/test.csv");
  if (path.empty()) GTEST_SKIP() << "SKIPPED: ../shared/data/test.csv is absent";
  TempDir dir;
  const auto r = run(cli() + " classify " + path.string() + " -o " + (dir / "out.csv") + " -q");
  ASSERT_EQ(r.status, 0) << r.output;
  const auto records = read_all(dir / "out.csv");
  ASSERT_EQ(records.size(), 10u);
  EXPECT_EQ(records[1].fields[2], "User Action");          // "User 12345 logged in." -> model
  EXPECT_EQ(records[2].fields[2], "System Notification");  // file uploaded -> rule
  EXPECT_EQ(records[0].fields[2], "Security Alert");       // IP blocked due to potential attack
  EXPECT_EQ(records[4].fields[2], "HTTP Status");
  EXPECT_EQ(records[8].fields[2], "Deprecation Warning");
  EXPECT_EQ(records[9].fields[2], "Deprecation Warning");
}

TEST(Cli, BadInputNamesFileLineAndLeavesNoOutput) {
  TempDir dir;
  std::ofstream(dir / "nocol.csv") << "timestamp,message\n1,hello\n";
  auto r = run(cli() + " classify " + (dir / "nocol.csv") + " -o " + (dir / "out.csv"));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("nocol.csv"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("log_message"), std::string::npos) << r.output;
  std::ofstream(dir / "quote.csv") << "log_message\nfine\n\"never closed\n";
  r = run(cli() + " classify " + (dir / "quote.csv") + " -o " + (dir / "out.csv"));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("quote.csv:3"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "out.csv"));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 2);  // no temp file left
  r = run(cli() + " classify " + (dir / "missing.csv"));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("missing.csv"), std::string::npos) << r.output;
}

TEST(Cli, StrictUtf8) {
  TempDir dir;
  std::ofstream(dir / "bad.txt") << "ok line\nbad \xff byte\n";
  auto r = run(cli() + " classify " + (dir / "bad.txt") + " -q");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("bad \xEF\xBF\xBD byte"), std::string::npos) << r.output;
  r = run(cli() + " classify " + (dir / "bad.txt") + " -q --strict");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("bad.txt:2"), std::string::npos) << r.output;
}

// A CSV file with bad rows in the middle: a row with too many fields, text after a closing quote.
std::string csv_with_bad_rows() {
  return "timestamp,source,log_message\n"
         "1,ModernCRM,User User1 logged in.\n"
         "2,ModernCRM,too,many\n"
         "3,BillingSystem,Backup completed successfully.\n"
         "4,x,\"quoted\" trailing\n"
         "5,ModernHR,User User2 logged out.\n";
}

TEST(Cli, OnErrorPassWritesBadRowsInPlaceWithAnErrorColumn) {
  TempDir dir;
  std::ofstream(dir / "in.csv") << csv_with_bad_rows();
  const auto r = run(cli() + " classify " + (dir / "in.csv") + " -o " + (dir / "out.csv") + " --on-error pass");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("2 bad records written with an error and no label (records read: 5 = 3 classified + 2 bad)"),
            std::string::npos) << r.output;
  EXPECT_NE(r.output.find("in.csv:3: expected 3 fields, found 4"), std::string::npos) << r.output;
  auto out = RecordReader::open(dir / "out.csv", ReadOptions{});
  EXPECT_EQ(out->columns(),
            (std::vector<std::string>{"timestamp", "source", "log_message", "predicted_label", "error"}));
  std::vector<std::vector<std::string>> rows;
  for (Record record; out->next(record);) rows.push_back(record.fields);
  ASSERT_EQ(rows.size(), 5u);  // rows in = rows out, in order
  EXPECT_EQ(rows[0], (std::vector<std::string>{"1", "ModernCRM", "User User1 logged in.", "User Action", ""}));
  EXPECT_EQ(rows[1], (std::vector<std::string>{"", "", "2,ModernCRM,too,many", "", (dir / "in.csv") + ":3: expected 3 fields, found 4"}));
  EXPECT_EQ(rows[2][3], "System Notification");
  EXPECT_EQ(rows[3][2], "4,x,\"quoted\" trailing");
  EXPECT_EQ(rows[3][4], (dir / "in.csv") + ":5: unexpected text after a closing quote");
  EXPECT_EQ(rows[4][3], "User Action");
}

TEST(Cli, OnErrorSkipLeavesBadRowsOutAndListsThemEvenWhenQuiet) {
  TempDir dir;
  std::ofstream(dir / "in.csv") << csv_with_bad_rows();
  const auto r = run(cli() + " classify " + (dir / "in.csv") + " -o " + (dir / "out.csv") + " --on-error skip -q");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("2 bad records skipped (records read: 5 = 3 classified + 2 bad):\n  " +
                          (dir / "in.csv") + ":3: expected 3 fields, found 4\n  " + (dir / "in.csv") +
                          ":5: unexpected text after a closing quote\n"),
            std::string::npos) << r.output;
  EXPECT_EQ(read_text(dir / "out.csv"),
            "timestamp,source,log_message,predicted_label\n"
            "1,ModernCRM,User User1 logged in.,User Action\n"
            "3,BillingSystem,Backup completed successfully.,System Notification\n"
            "5,ModernHR,User User2 logged out.,User Action\n");
  // fail, the default: the first bad row stops the run, and no output file is left.
  for (const std::string option : {"", " --on-error fail"}) {
    const auto f = run(cli() + " classify " + (dir / "in.csv") + " -o " + (dir / "fail.csv") + option);
    EXPECT_EQ(f.status, 1);
    EXPECT_NE(f.output.find("in.csv:3: expected 3 fields, found 4"), std::string::npos) << f.output;
    EXPECT_FALSE(std::filesystem::exists(dir / "fail.csv"));
  }
  EXPECT_NE(run(cli() + " classify " + (dir / "in.csv") + " --on-error ignore").status, 0);
}

TEST(Cli, OnErrorPassWithJsonLinesAndLines) {
  TempDir dir;
  std::ofstream(dir / "in.jsonl") << "{\"log_message\":\"User User1 logged in.\",\"host\":\"a\"}\n"
                                     "{\"host\":\"b\"}\n"
                                     "{\"log_message\": oops\n"
                                     "{\"msg\":\"User User2 logged out.\"}\n";
  auto r = run(cli() + " classify " + (dir / "in.jsonl") + " --on-error pass -q");
  ASSERT_EQ(r.status, 0) << r.output;
  std::vector<nlohmann::json> docs;
  std::istringstream lines(r.output);
  for (std::string line; std::getline(lines, line);) docs.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(docs.size(), 4u);
  EXPECT_EQ(docs[0]["predicted_label"], "User Action");
  EXPECT_FALSE(docs[0].contains("error"));
  EXPECT_EQ(docs[1]["host"], "b");
  EXPECT_TRUE(docs[1]["predicted_label"].is_null());
  EXPECT_EQ(docs[1]["error"], (dir / "in.jsonl") + ":2: no field 'log_message', 'message', 'log' or 'msg'");
  EXPECT_EQ(docs[2]["raw"], "{\"log_message\": oops");
  EXPECT_EQ(docs[2]["error"].get<std::string>().rfind((dir / "in.jsonl") + ":3: invalid JSON: ", 0), 0u);
  EXPECT_EQ(docs[3]["predicted_label"], "User Action");
  std::ofstream(dir / "in.txt") << "User User1 logged in.\nbad \xff byte\nUser User2 logged out.\n";
  r = run(cli() + " classify " + (dir / "in.txt") + " --strict --on-error pass -q");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "User Action\t\tUser User1 logged in.\n"
                      "\t" + (dir / "in.txt") + ":2: invalid UTF-8 at byte 5 of the line\tbad \xEF\xBF\xBD byte\n"
                      "User Action\t\tUser User2 logged out.\n");
}

// JSON lines: the message is the first of log_message, message, log, msg each object has, unless
// --message-column names others; CSV: the first of the names the header has.
TEST(Cli, MessageFieldFallback) {
  TempDir dir;
  std::ofstream(dir / "in.jsonl") << "{\"message\":\"User User1 logged in.\"}\n"
                                     "{\"log\":\"Backup completed successfully.\",\"msg\":\"x\"}\n";
  auto r = run(cli() + " classify " + (dir / "in.jsonl") + " -q");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "{\"message\":\"User User1 logged in.\",\"predicted_label\":\"User Action\"}\n"
                      "{\"log\":\"Backup completed successfully.\",\"msg\":\"x\",\"predicted_label\":\"System Notification\"}\n");
  r = run(cli() + " classify " + (dir / "in.jsonl") + " -q --message-column text,body");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("in.jsonl:1: no field 'text' or 'body'"), std::string::npos) << r.output;
  std::ofstream(dir / "in.csv") << "msg,body\nx,User User1 logged in.\n";
  r = run(cli() + " classify " + (dir / "in.csv") + " -q --message-column text,body,msg");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "msg,body,predicted_label\nx,User User1 logged in.,User Action\n");
  r = run(cli() + " classify " + (dir / "in.csv") + " -q --message-column text,log");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("in.csv: no column 'text' or 'log' (columns: msg, body)"), std::string::npos) << r.output;
  EXPECT_NE(run(cli() + " classify " + (dir / "in.csv") + " --message-column text,,log").status, 0);
}

TEST(Cli, TrainEvaluateRoundTripWithHeatmap) {
  TempDir dir;
  auto r = run(cli() + " corpus -n 3000 --seed 5 -o " + (dir / "corpus.csv"));
  ASSERT_EQ(r.status, 0) << r.output;
  r = run(cli() + " train " + (dir / "corpus.csv") + " -o " + (dir / "model") + " --test-size 0.25 --heatmap " +
          (dir / "held-out.png"));
  ASSERT_EQ(r.status, 0) << r.output;
  for (const char* header : {"precision", "recall", "f1-score", "support", "accuracy", "macro avg", "weighted avg",
                             "cross-validation on the training rows", "out-of-fold", "held-out report (the pipeline",
                             "held-out report (head alone", "expected calibration error", "heatmap written"})
    EXPECT_NE(r.output.find(header), std::string::npos) << header << "\n" << r.output;
  EXPECT_EQ(read_text(dir / "held-out.png").substr(1, 3), "PNG");
  // The choice is recorded in the bundle.
  const auto meta = nlohmann::json::parse(read_text(dir / "model/logclf-model.json"));
  EXPECT_GT(meta["training"]["head"]["C"].get<double>(), 0.0);
  EXPECT_GT(meta["training"]["head"]["temperature"].get<double>(), 0.0);
  EXPECT_EQ(meta["training"]["options"]["C"], "auto");
  EXPECT_LE(meta["training"]["held_out_calibration"]["ece"].get<double>(), 0.05);
  r = run(cli() + " corpus -n 500 --seed 6 -o " + (dir / "test.csv"));
  ASSERT_EQ(r.status, 0) << r.output;
  r = run(cli() + " evaluate " + (dir / "test.csv") + " -m " + (dir / "model") + " --heatmap " + (dir / "cm.png"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("Rules (coverage"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Model alone"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Confusion matrix"), std::string::npos) << r.output;
  const std::string png = read_text(dir / "cm.png");
  ASSERT_GT(png.size(), 1000u);
  EXPECT_EQ(png.substr(1, 3), "PNG");
  r = run(cli() + " evaluate " + (dir / "test.csv") + " -m " + (dir / "model") + " --json");
  ASSERT_EQ(r.status, 0) << r.output;
  const auto doc = nlohmann::json::parse(r.output);
  EXPECT_EQ(doc["total"], 500);
  EXPECT_GT(doc["hybrid"]["accuracy"].get<double>(), 0.9);
}

TEST(Cli, TrainChecksCAndCalibrationOptions) {
  TempDir dir;
  auto r = run(cli() + " corpus -n 400 --seed 5 -o " + (dir / "corpus.csv"));
  ASSERT_EQ(r.status, 0) << r.output;
  for (const char* bad : {"0", "-1", "abc", "1e400", "2x"}) {
    r = run(cli() + " train " + (dir / "corpus.csv") + " -o " + (dir / "m") + " --C " + bad);
    EXPECT_NE(r.status, 0) << bad;
    EXPECT_NE(r.output.find("--C must be a positive number or auto"), std::string::npos) << bad << r.output;
  }
  r = run(cli() + " train " + (dir / "corpus.csv") + " -o " + (dir / "m") + " --C 2.5 --calibration none");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("C 2.5, no calibration"), std::string::npos) << r.output;
  const auto meta = nlohmann::json::parse(read_text(dir / "m/logclf-model.json"));
  EXPECT_EQ(meta["training"]["head"]["C"], 2.5);
  EXPECT_EQ(meta["training"]["head"]["temperature"], 1.0);
}

TEST(Cli, RulesTestAndCheck) {
  auto r = run(cli() + " rules test default 'Backup completed successfully.'");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("backup-completed"), std::string::npos) << r.output;
  r = run(cli() + " rules test default 'nothing to see'");
  EXPECT_EQ(r.status, 1);
  TempDir dir;
  std::ofstream(dir / "bad.yaml") << "version: 1\nrules:\n  - {name: broken, pattern: '(unclosed', label: X}\n";
  r = run(cli() + " rules check " + (dir / "bad.yaml"));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("rule 'broken'"), std::string::npos) << r.output;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A usage error exits 2, whatever CLI11 would have said (105 for a bad value, 106 for a missing one, 109
// for an unknown option); failures of the work itself exit 1.
TEST(Cli, UsageErrorsExit2) {
  for (const std::string args : {"", " classify --format nonsense x.csv", " classify --no-such-option x.csv",
                                 " train corpus.csv", " classify x.csv --threshold 2", " rules",
                                 " model info --encoder nonsense", " --no-such-option"}) {
    const auto r = run(cli() + args);
    EXPECT_EQ(r.status, 2) << "logclf" << args << "\n" << r.output;
    EXPECT_FALSE(r.output.empty()) << "logclf" << args;
  }
  EXPECT_EQ(run(cli() + " classify /nonexistent/input.csv").status, 1);
  EXPECT_EQ(run(cli() + " --help").status, 0);
  EXPECT_EQ(run(cli() + " classify --help").status, 0);
}

TEST(Cli, MistypedCommandSuggestsTheClosestVerb) {
  auto r = run(cli() + " clasify x.csv");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_TRUE(contains(r.output, "unknown command 'clasify'; did you mean 'classify'?")) << r.output;
  r = run(cli() + " evalaute x.csv");  // neighbours swapped
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_TRUE(contains(r.output, "unknown command 'evalaute'; did you mean 'evaluate'?")) << r.output;
  r = run(cli() + " rules tset default 'Backup completed successfully.'");  // a verb of a verb
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_TRUE(contains(r.output, "unknown command 'rules tset'; did you mean 'rules test'?")) << r.output;
  r = run(cli() + " -v serv");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_TRUE(contains(r.output, "unknown command 'serv'; did you mean 'serve'?")) << r.output;
  // Nothing near: no guess, the verbs listed.
  r = run(cli() + " xyzzy");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_TRUE(contains(r.output, "unknown command 'xyzzy' (commands: train, classify, evaluate,")) << r.output;
  EXPECT_FALSE(contains(r.output, "did you mean")) << r.output;
}

// The CPU features as the kernel reports them in /proc/cpuinfo's flags.
std::set<std::string> cpu_flags() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.starts_with("flags")) {
      std::istringstream words(line.substr(line.find(':') + 1));
      return {std::istream_iterator<std::string>(words), std::istream_iterator<std::string>()};
    }
  return {};
}

// -q and -v are the program's, before the verb or after it: -q silences notices on standard error (a
// verb's own -q keeps working), -v prints the version and kernels there before the verb runs.
TEST(Cli, QuietAndVerboseWorkBeforeAndAfterTheVerb) {
  const testing::TempDir dir;
  const std::string corpus = dir / "corpus.csv", out = dir / "out.csv";
  // What `logclf ARGS` writes to standard error, its standard output dropped.
  const auto stderr_of = [](const std::string& args) { return run("{ " + cli() + args + " 2>&1 >/dev/null; }"); };
  auto r = stderr_of(" corpus -n 3 -o '" + corpus + "'");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "3 labelled lines written to " + corpus + "\n");
  for (const std::string& args : {" -q corpus -n 3 -o '" + corpus + "'", " corpus -n 3 -o '" + corpus + "' --quiet",
                                  " -q classify '" + corpus + "' -o '" + out + "'",
                                  " classify -q '" + corpus + "' -o '" + out + "'"}) {
    r = stderr_of(args);
    EXPECT_EQ(r.status, 0) << args << "\n" << r.output;
    EXPECT_EQ(r.output, "") << args;
  }
  r = stderr_of(" classify '" + corpus + "' -o '" + out + "'");
  EXPECT_NE(r.output.find("classified 3 lines"), std::string::npos) << r.output;
  for (const std::string& args : {" -v classify '" + corpus + "'", " classify --verbose '" + corpus + "'"}) {
    r = stderr_of(args);
    EXPECT_EQ(r.status, 0) << args << "\n" << r.output;
    EXPECT_TRUE(r.output.starts_with("logclf " + std::string(version()) + "\nE5 kernels: ")) << args << "\n" << r.output;
    // Standard output is the verb's alone.
    EXPECT_EQ(run("{ " + cli() + args + " 2>/dev/null; }").output.find("E5 kernels"), std::string::npos) << args;
  }
}

TEST(Cli, VersionAndTheComputeKernels) {
  auto r = run(cli() + " --version 2>/dev/null");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "logclf " + std::string(version()) + "\n");
  EXPECT_TRUE(std::regex_match(r.output, std::regex("logclf [0-9]+\\.[0-9]+\\.[0-9]+\n"))) << r.output;

  for (const std::string args : {" --version -v", " -v --version", " --version --verbose"}) {
    r = run(cli() + args + " 2>/dev/null");
    ASSERT_EQ(r.status, 0) << args << "\n" << r.output;
    std::smatch m;
    ASSERT_TRUE(std::regex_match(r.output, m, std::regex(
        "logclf [0-9.]+\n"
        "E5 kernels: fp32 (avx2\\+fma|portable), int8 (avx512-vnni|avx2|portable) \\(--precision auto: (int8|fp32)\\)\n"
        "CPU features: AVX2 (yes|no), FMA (yes|no), AVX-512F (yes|no), AVX512-VNNI (yes|no), AVX512-BF16 (yes|no)\n")))
        << args << "\n" << r.output;
    const std::set<std::string> flags = cpu_flags();
    if (flags.empty()) continue;  // no /proc/cpuinfo flags to check the detection against
    const auto has = [&](const char* flag) { return flags.contains(flag) ? "yes" : "no"; };
    EXPECT_EQ(m[4].str(), has("avx2"));
    EXPECT_EQ(m[5].str(), has("fma"));
    EXPECT_EQ(m[6].str(), has("avx512f"));
    EXPECT_EQ(m[7].str(), has("avx512_vnni"));
    EXPECT_EQ(m[8].str(), has("avx512_bf16"));
    // The paths the dispatch must choose from those features.
    const bool avx2 = flags.contains("avx2"), fma = flags.contains("fma");
    const bool vnni = flags.contains("avx512f") && flags.contains("avx512bw") && flags.contains("avx512vl") &&
                      flags.contains("avx512_vnni");
    EXPECT_EQ(m[1].str(), avx2 && fma ? "avx2+fma" : "portable");
    EXPECT_EQ(m[2].str(), vnni ? "avx512-vnni" : avx2 ? "avx2" : "portable");
    EXPECT_EQ(m[3].str(), vnni || avx2 ? "int8" : "fp32");
  }
}

TEST(Cli, BlankCsvLineIsARowWithAnEmptyMessage) {
  const auto r = run("printf 'log_message,n\\nUser User9 logged out.,1\\n\\nBackup completed successfully.,3\\n' | " +
                     cli() + " classify - -q");
  ASSERT_EQ(r.status, 0) << r.output;
  std::istringstream lines(r.output);
  std::vector<std::string> rows;
  for (std::string line; std::getline(lines, line);) rows.push_back(line);
  ASSERT_EQ(rows.size(), 4u) << r.output;
  EXPECT_EQ(rows[1], "User User9 logged out.,1,User Action");
  EXPECT_EQ(rows[2].substr(0, 2), ",,") << rows[2];
  EXPECT_GT(rows[2].size(), 2u) << "an empty message gets a label too";
  EXPECT_EQ(rows[3], "Backup completed successfully.,3,System Notification");
}

TEST(Cli, JsonOutputIsOneArray) {
  TempDir dir;
  std::ofstream(dir / "in.csv") << "log_message,host\nUser User3 logged in.,a\n\"two\nlines\",b\n";
  auto r = run(cli() + " classify " + (dir / "in.csv") + " -o " + (dir / "out.json") + " -q");
  ASSERT_EQ(r.status, 0) << r.output;
  const std::string text = read_text(dir / "out.json");
  EXPECT_EQ(text.substr(0, 2), "[\n") << text;
  EXPECT_EQ(text.substr(text.size() - 4), "}\n]\n") << text;
  const auto doc = nlohmann::json::parse(text);
  ASSERT_TRUE(doc.is_array()) << text;
  ASSERT_EQ(doc.size(), 2u);
  EXPECT_EQ(doc[0]["log_message"], "User User3 logged in.");
  EXPECT_EQ(doc[0]["host"], "a");
  EXPECT_EQ(doc[0]["predicted_label"], "User Action");
  EXPECT_EQ(doc[1]["log_message"], "two\nlines");
  // --output-format json to standard output; no record gives an empty array.
  std::ofstream(dir / "empty.csv") << "log_message\n";
  r = run(cli() + " classify " + (dir / "empty.csv") + " --output-format json -q");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "[]\n");
}

TEST(Cli, JsonArrayInputIsRefusedWithAHint) {
  TempDir dir;
  std::ofstream(dir / "in.json") << "\n  [{\"log_message\": \"x\"}]\n";
  const auto r = run(cli() + " classify " + (dir / "in.json") + " -q");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find((dir / "in.json") + ":2: this is a JSON array; logclf reads JSON lines (one object per "
                          "line), e.g. jq -c '.[]' " + (dir / "in.json")),
            std::string::npos) << r.output;
}

TEST(Cli, OutputExtensionMustNameAFormat) {
  TempDir dir;
  std::ofstream(dir / "in.csv") << "log_message\nUser User3 logged in.\n";
  auto r = run(cli() + " classify " + (dir / "in.csv") + " -o " + (dir / "x.parquet") + " -q");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("cannot tell the output format of '" + (dir / "x.parquet") +
                          "' from its extension: use .csv, .jsonl, .json, .txt or .log, or --output-format"),
            std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "x.parquet"));
  r = run(cli() + " classify " + (dir / "in.csv") + " -o " + (dir / "x.parquet") + " --output-format jsonl -q");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(read_text(dir / "x.parquet"), "{\"log_message\":\"User User3 logged in.\",\"predicted_label\":\"User Action\"}\n");
  // No extension at all: like the input, as before.
  r = run(cli() + " classify " + (dir / "in.csv") + " -o " + (dir / "out") + " -q");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(read_text(dir / "out"), "log_message,predicted_label\nUser User3 logged in.,User Action\n");
}

// `logclf kafka --config`: its options from YAML or TOML, and its `properties` section handed to librdkafka
// (whose refusal of an unknown property, before any broker is asked, shows that it got there); the four
// required options may come from the file.
TEST(Cli, KafkaConfigFileGivesOptionsAndLibrdkafkaProperties) {
  const testing::TempDir dir;
  std::ofstream(dir / "k.yaml") << "brokers: 127.0.0.1:1\ninput-topic: [a, b]\noutput-topic: out\ngroup: g\n"
                                   "properties:\n  no.such.yaml.property: 1\n";
  auto r = run("timeout 60 " + cli() + " kafka --config " + (dir / "k.yaml"));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("librdkafka property no.such.yaml.property: No such configuration property"),
            std::string::npos)
      << r.output;
  std::ofstream(dir / "k.toml") << "brokers = \"127.0.0.1:1\"\ninput-topic = a\noutput-topic = out\ngroup = g\n"
                                   "[properties]\nno.such.toml.property = 1\n";
  r = run("timeout 60 " + cli() + " kafka --config " + (dir / "k.toml"));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("librdkafka property no.such.toml.property"), std::string::npos) << r.output;
  std::ofstream(dir / "partial.yaml") << "brokers: 127.0.0.1:1\ngroup: g\n";
  r = run("timeout 60 " + cli() + " kafka --config " + (dir / "partial.yaml") + " --output-topic out");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("--input-topic is required (on the command line or in --config)"), std::string::npos)
      << r.output;
  std::ofstream(dir / "section.yaml") << "brokers: 127.0.0.1:1\nclient:\n  a: 1\n";
  r = run(cli() + " kafka --config " + (dir / "section.yaml"));
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("section.yaml:2: 'client' holds a mapping, but only these sections may: properties"),
            std::string::npos)
      << r.output;
}

}  // namespace
}  // namespace logclf
