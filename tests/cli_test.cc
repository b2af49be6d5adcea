// End-to-end tests of the logclf binary: what a user types and what they get back.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "logclf/io.h"
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

TEST(Cli, UsageErrors) {
  EXPECT_NE(run(cli()).status, 0);
  EXPECT_NE(run(cli() + " classify --format nonsense x.csv").status, 0);
  const auto r = run(cli() + " --version");
  EXPECT_EQ(r.status, 0);
}

}  // namespace
}  // namespace logclf
