// Rules fitted to the training labels: built-in rules for labels the data lacks left out, given ones with
// a foreign label refused, imprecise ones dropped, and rules mined from the data.
#include <gtest/gtest.h>

#include <re2/re2.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "logclf/classifier.h"
#include "logclf/train.h"
#include "support/paths.h"
#include "support/run.h"
#include "train/rule_check.h"

namespace logclf {
namespace {

void write_text(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

// Levels of an application's own logs: access-log lines (which the built-in http-request-line rule would
// call "HTTP Status") carry the level of their status, as they do in real access logs.
std::vector<LabeledLine> level_rows() {
  std::vector<LabeledLine> rows;
  for (int i = 0; i < 60; ++i) {
    const std::string n = std::to_string(1000 + i * 7);
    rows.push_back({"10.0.0." + std::to_string(i % 9) + " \"GET /api/items/" + n + " HTTP/1.1\" 200 " + n, "web", "info"});
    rows.push_back({"10.0.0." + std::to_string(i % 9) + " \"POST /api/orders/" + n + " HTTP/1.1\" 500 " + n, "web", "error"});
    rows.push_back({"worker " + n + " finished job " + n + " in " + std::to_string(i) + " ms", "jobs", "info"});
    rows.push_back({"worker " + n + " crashed: out of memory after " + std::to_string(i) + " ms", "jobs", "error"});
    rows.push_back({"disk usage on /var/lib/db" + std::to_string(i % 3) + " at " + std::to_string(70 + i % 20) + "%",
                    "ops", i % 2 == 0 ? "warning" : "info"});
  }
  return rows;
}

TEST(TrainRules, BuiltInRulesForLabelsTheDataLacksAreLeftOut) {
  TrainOptions options;
  options.test_size = 0;
  const TrainResult result = train(level_rows(), options);
  const Classifier& c = *result.classifier;
  EXPECT_EQ(c.rules().size(), 0u);
  std::size_t left_out = 0;
  for (const RuleReport& r : result.rules) {
    EXPECT_FALSE(r.kept) << r.name;
    left_out += r.status.starts_with("left out");
  }
  EXPECT_EQ(left_out, RuleSet::defaults().size());
  for (const LabeledLine& row : level_rows()) {
    const Prediction p = c.classify(row.message, row.source);
    EXPECT_NE(p.label, "HTTP Status") << row.message;
    EXPECT_NE(p.stage, Stage::rule) << row.message;
  }
  // With the built-in rules applied regardless (the behaviour this replaces) the access lines would be
  // "HTTP Status": the rule matches them.
  EXPECT_TRUE(RuleSet::defaults().match(level_rows()[0].message));
}

TEST(TrainRules, GivenRuleWithAForeignLabelIsRefusedUnlessAllowed) {
  TrainOptions options;
  options.test_size = 0;
  options.rules = RuleSet::parse("version: 1\nrules:\n  - {name: oom, pattern: 'out of memory', label: error}\n"
                                 "  - {name: paging, pattern: 'crashed', label: page-oncall}\n",
                                 "given.yaml");
  options.rules_given = true;
  try {
    train(level_rows(), options);
    FAIL() << "a rule with a label no row has was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'paging'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("page-oncall"), std::string::npos) << e.what();
  }
  options.allow_new_labels = true;
  const TrainResult result = train(level_rows(), options);
  // 'oom' decides the crash lines first; 'paging' is kept though it decides nothing.
  ASSERT_EQ(result.classifier->rules().size(), 2u);
  EXPECT_EQ(result.rules[0].matched, 60u);
  EXPECT_EQ(result.rules[0].correct, 60u);
  EXPECT_EQ(result.classifier->classify("worker 7 crashed: disk full").label, "page-oncall");
}

TEST(TrainRules, ImpreciseRuleIsDroppedAndReported) {
  TrainOptions options;
  options.test_size = 0;
  // 'disk' is right on half of the 60 disk lines; 'jobs-crash' on all 60 crash lines; 'rare' decides fewer
  // than 20 rows and is kept whatever its precision.
  options.rules = RuleSet::parse(
      "version: 1\nrules:\n  - {name: disk, pattern: 'disk usage', label: warning}\n"
      "  - {name: jobs-crash, pattern: 'crashed', label: error}\n"
      "  - {name: rare, pattern: 'finished job 100[07] ', label: error}\n",
      "given.yaml");
  options.rules_given = true;
  TrainResult result = train(level_rows(), options);
  ASSERT_EQ(result.rules.size(), 3u);
  EXPECT_FALSE(result.rules[0].kept);
  EXPECT_NE(result.rules[0].status.find("precision 0.500 on 60 rows"), std::string::npos) << result.rules[0].status;
  EXPECT_TRUE(result.rules[1].kept);
  EXPECT_EQ(result.rules[1].matched, 60u);
  EXPECT_TRUE(result.rules[2].kept);
  EXPECT_EQ(result.rules[2].matched, 2u);
  EXPECT_EQ(result.rules[2].correct, 0u);
  ASSERT_EQ(result.classifier->rules().size(), 2u);
  EXPECT_EQ(result.classifier->rules().rules()[0].name, "jobs-crash");
  const auto meta = nlohmann::json::parse(result.classifier->metadata_json());
  EXPECT_EQ(meta["training"]["rules"][0]["name"], "disk");
  EXPECT_DOUBLE_EQ(meta["training"]["rules"][0]["precision"].get<double>(), 0.5);
  options.keep_all_rules = true;
  result = train(level_rows(), options);
  EXPECT_EQ(result.classifier->rules().size(), 3u);
}

TEST(TrainRules, TemplatePatternQuotesTheTextAndMasksVariableParts) {
  EXPECT_EQ(rule_check::template_pattern("Disk 42 at /var/log/x full (id=dead01)"),
            "^Disk [0-9A-Fa-f]+ at [^\\s,;\"')\\]}>|]+ full \\(id=[0-9A-Fa-f]+\\)$");
  const RE2 re(rule_check::template_pattern("job 17 took 3.5 s [ok]"));
  ASSERT_TRUE(re.ok());
  EXPECT_TRUE(RE2::FullMatch("job 90210 took 12.75 s [ok]", re));
  EXPECT_FALSE(RE2::FullMatch("job 17 took 3.5 s [failed]", re));
  EXPECT_FALSE(RE2::FullMatch("job x took 3.5 s [ok]", re));
}

TEST(TrainRules, MinedRulesReproduceTheTrainingLabelsOnTheRowsTheyMatch) {
  const auto rows = level_rows();
  TrainOptions options;
  options.test_size = 0;
  options.rules = RuleSet();
  options.mine_rules = 10;
  const TrainResult proposed = train(rows, options);
  ASSERT_TRUE(proposed.mined);
  // The access, job and crash lines are one template each with one label; the disk lines mix two labels
  // and give no rule.
  EXPECT_EQ(proposed.mined->size(), 4u) << proposed.mined->text();
  EXPECT_EQ(proposed.mined_rows, 240u);
  EXPECT_EQ(proposed.classifier->rules().size(), 0u) << "mined rules are only proposed without use_mined_rules";
  std::size_t matched = 0;
  for (const LabeledLine& row : rows) {
    const auto hit = proposed.mined->match(row.message, row.source);
    if (!hit) continue;
    ++matched;
    EXPECT_EQ(proposed.mined->rules()[*hit].label, row.label) << row.message;
  }
  EXPECT_EQ(matched, 240u);
  // Written and read back as a rules file.
  EXPECT_EQ(RuleSet::parse(proposed.mined->text(), "mined.yaml").size(), 4u);

  options.use_mined_rules = true;
  const TrainResult used = train(rows, options);
  EXPECT_EQ(used.classifier->rules().size(), 4u);
  const Prediction p = used.classifier->classify("worker 99999 finished job 99999 in 5 ms");
  EXPECT_EQ(p.stage, Stage::rule);
  EXPECT_EQ(p.label, "info");
  EXPECT_EQ(used.rows_rule_matched, 240u);
}

TEST(TrainRules, CliReportsRulesAndWritesMinedRules) {
  testing::TempDir dir;
  std::string csv = "log_message,target_label\n";
  for (const auto& row : level_rows()) {
    std::string quoted = row.message;
    for (std::size_t at = 0; (at = quoted.find('"', at)) != std::string::npos; at += 2) quoted.insert(at, "\"");
    csv += "\"" + quoted + "\"," + row.label + "\n";
  }
  write_text(dir / "levels.csv", csv);
  auto r = testing::run(testing::cli() + " train " + (dir / "levels.csv") + " -o " + (dir / "m") +
                        " --mine-rules-out " + (dir / "mined.yaml"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("built-in rules left out, their labels are not in the data: user-login-logout"),
            std::string::npos) << r.output;
  EXPECT_NE(r.output.find("mined rules: 4 templates"), std::string::npos) << r.output;
  r = testing::run(testing::cli() + " rules check " + (dir / "mined.yaml"));
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("4 rules OK"), std::string::npos) << r.output;
  write_text(dir / "foreign.yaml", "version: 1\nrules:\n  - {name: pager, pattern: 'crashed', label: P1}\n");
  r = testing::run(testing::cli() + " train " + (dir / "levels.csv") + " -o " + (dir / "m2") + " --rules " +
                   (dir / "foreign.yaml"));
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("rule 'pager' gives the label 'P1'"), std::string::npos) << r.output;
  r = testing::run(testing::cli() + " model info -m " + (dir / "m"));
  EXPECT_NE(r.output.find("\"status\": \"left out"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace logclf
