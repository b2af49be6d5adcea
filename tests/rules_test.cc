#include <gtest/gtest.h>

#include <string>

#include "logclf/rules.h"
#include "logclf/types.h"

namespace logclf {
namespace {

std::string label_of(const RuleSet& rules, std::string_view message, std::string_view source = {}) {
  const auto match = rules.match(message, source);
  return match ? rules.rules()[*match].label : "";
}

TEST(Rules, DefaultsAreTheOriginalEightInOrderPlusExtras) {
  const RuleSet rules = RuleSet::defaults();
  ASSERT_GE(rules.size(), 8u);
  const char* patterns[] = {
      R"(User User\d+ logged (in|out).)",       R"(Backup (started|ended) at .*)",
      R"(Backup completed successfully.)",       R"(System updated to version .*)",
      R"(File .* uploaded successfully by user .*)", R"(Disk cleanup completed successfully.)",
      R"(System reboot initiated by user .*)",   R"(Account with ID .* created by .*)"};
  const char* labels[] = {"User Action",         "System Notification", "System Notification",
                          "System Notification", "System Notification", "System Notification",
                          "System Notification", "User Action"};
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(rules.rules()[i].pattern, patterns[i]);
    EXPECT_EQ(rules.rules()[i].label, labels[i]);
    EXPECT_TRUE(rules.rules()[i].ignore_case);  // the original used re.IGNORECASE
  }
}

TEST(Rules, DefaultsLabelTypicalLines) {
  const RuleSet rules = RuleSet::defaults();
  EXPECT_EQ(label_of(rules, "User User123 logged in."), "User Action");
  EXPECT_EQ(label_of(rules, "user user7 LOGGED OUT."), "User Action");  // case-insensitive
  EXPECT_EQ(label_of(rules, "Backup started at 2025-05-14 07:06:55."), "System Notification");
  EXPECT_EQ(label_of(rules, "File data_6957.csv uploaded successfully by user User265."), "System Notification");
  EXPECT_EQ(label_of(rules, "Account with ID 5351 created by User634."), "User Action");
  EXPECT_EQ(label_of(rules, R"(10.0.0.1 - - [10/Oct/2025:13:55:36 +0000] "GET /index.html HTTP/1.1" 404 512)"),
            "HTTP Status");
  EXPECT_EQ(label_of(rules, R"(nova.osapi_compute.wsgi.server [req-1] 10.11.10.1 "GET /v2/x/servers/detail HTTP/1.1" status: 200 len: 1893)"),
            "HTTP Status");
  EXPECT_EQ(label_of(rules, "Multiple failed login attempts for user 42"), "");
  EXPECT_EQ(label_of(rules, "User alice logged in."), "");  // the pattern wants User<digits>
}

TEST(Rules, SearchIsUnanchoredLikePythonReSearch) {
  const RuleSet rules = RuleSet::defaults();
  EXPECT_EQ(label_of(rules, "2025-01-01 app: User User1 logged out. (session 9)"), "User Action");
}

TEST(Rules, FirstRuleInFileOrderWins) {
  const RuleSet rules = RuleSet::parse(R"(
version: 1
rules:
  - {name: second-in-file-but-general, pattern: 'disk', label: Resource Usage}
  - {name: specific, pattern: 'disk failure', label: Critical Error}
)", "t.yaml");
  EXPECT_EQ(label_of(rules, "disk failure on sda"), "Resource Usage");
  EXPECT_EQ(*rules.match("disk failure on sda"), 0u);
}

TEST(Rules, SourceFilter) {
  const RuleSet rules = RuleSet::parse(R"(
version: 1
rules:
  - name: legacy-only
    pattern: 'failed'
    label: Workflow Error
    sources: [LegacyCRM]
  - name: anything
    pattern: 'failed'
    label: Error
)", "t.yaml");
  EXPECT_EQ(label_of(rules, "task failed", "LegacyCRM"), "Workflow Error");
  EXPECT_EQ(label_of(rules, "task failed", "ModernCRM"), "Error");
  EXPECT_EQ(label_of(rules, "task failed"), "Error");
}

TEST(Rules, CaseSensitiveUnlessAsked) {
  const RuleSet rules = RuleSet::parse(R"(
version: 1
rules:
  - {name: exact, pattern: 'ERROR', label: Error}
  - {name: folded, pattern: 'warn', label: Warning, ignore_case: true}
)", "t.yaml");
  EXPECT_EQ(label_of(rules, "an error"), "");
  EXPECT_EQ(label_of(rules, "an ERROR"), "Error");
  EXPECT_EQ(label_of(rules, "WARN: x"), "Warning");
}

TEST(Rules, LinearTimeOnPatternsThatBacktrackElsewhere) {
  // (a+)+$ takes exponential time in a backtracking engine on "aaaa…b"; RE2 answers at once.
  const RuleSet rules = RuleSet::parse("version: 1\nrules:\n  - {name: evil, pattern: '(a+)+$', label: X}\n", "t.yaml");
  const std::string line = std::string(100000, 'a') + "b";
  EXPECT_FALSE(rules.match(line).has_value());
  EXPECT_TRUE(rules.match(std::string(50, 'a')).has_value());
}

void expect_error(const std::string& yaml, const std::string& fragment) {
  try {
    RuleSet::parse(yaml, "rules.yaml");
    ADD_FAILURE() << "no error for:\n" << yaml;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(Rules, ErrorsNameTheRuleAndLine) {
  expect_error("version: 1\nrules:\n  - {name: look, pattern: '(?<=a)b', label: X}\n",
               "rules.yaml:3: rule 'look': pattern cannot be compiled");
  expect_error("version: 1\nrules:\n  - name: nolabel\n    pattern: 'a'\n", "rules.yaml:3: rule 'nolabel': rule has no 'label'");
  expect_error("version: 2\nrules: []\n", "version '2'");
  expect_error("version: 1\nrules:\n  - {name: a, pattern: x, label: X}\n  - {name: a, pattern: y, label: Y}\n",
               "rule 'a': duplicate rule name");
  expect_error("version: 1\nrules:\n  - {name: a, pattern: x, label: X, colour: red}\n", "unknown key 'colour'");
  expect_error("version: 1\nrules: [\n", "rules.yaml:");
  expect_error("", "empty rules file");
  EXPECT_THROW(RuleSet::load("/nonexistent/rules.yaml"), Error);
}

}  // namespace
}  // namespace logclf
