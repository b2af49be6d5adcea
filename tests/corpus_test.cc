// Tests of the training-corpus generator: determinism, label mix, variety, well-formedness, and label
// semantics checked with properties that hold for any correct line of a label, not with the templates.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "corpus/engine.h"
#include "corpus/generator.h"
#include "corpus/templates.h"

namespace logclf::corpus {
namespace {

const std::vector<GeneratedLine>& corpus20k() {
  static const std::vector<GeneratedLine> lines = generate({.count = 20000, .seed = 1});
  return lines;
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool contains_any(std::string_view text, std::initializer_list<std::string_view> needles) {
  return std::any_of(needles.begin(), needles.end(),
                     [&](std::string_view n) { return text.find(n) != std::string_view::npos; });
}

bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t extra = 0;
    unsigned min = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1;
      min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
      min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3;
      min = 0x10000;
    } else {
      return false;
    }
    if (i + extra >= s.size()) return false;
    unsigned code = c & (0x3F >> extra);
    for (std::size_t k = 1; k <= extra; ++k) {
      const auto cont = static_cast<unsigned char>(s[i + k]);
      if ((cont & 0xC0) != 0x80) return false;
      code = (code << 6) | (cont & 0x3F);
    }
    if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return false;
    i += extra + 1;
  }
  return true;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// A text's shape: runs of six or more hex characters become "H", other digit runs "0", so that lines
// differing only in identifiers and numbers have the same shape.
std::string shape(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    std::size_t end = i;
    while (end < text.size() && is_hex(text[end])) ++end;
    if (end - i >= 6) {
      out += 'H';
      i = end;
    } else if (is_digit(text[i])) {
      out += '0';
      while (i < text.size() && is_digit(text[i])) ++i;
    } else {
      out += text[i++];
    }
  }
  return out;
}

// `word` occurs in `text` delimited by non-alphanumeric characters.
bool has_word(std::string_view text, std::string_view word) {
  for (std::size_t at = text.find(word); at != std::string_view::npos; at = text.find(word, at + 1)) {
    const bool left = at == 0 || !is_alnum(text[at - 1]);
    const bool right = at + word.size() == text.size() || !is_alnum(text[at + word.size()]);
    if (left && right) return true;
  }
  return false;
}

// A standalone three-digit number from 100 to 599 (not part of a longer number or a decimal).
bool has_status_code(std::string_view text) {
  for (std::size_t i = 0; i + 3 <= text.size(); ++i) {
    const bool digits = is_digit(text[i]) && is_digit(text[i + 1]) && is_digit(text[i + 2]);
    const bool left = i == 0 || (!is_digit(text[i - 1]) && text[i - 1] != '.');
    const bool right = i + 3 == text.size() || (!is_digit(text[i + 3]) && text[i + 3] != '.');
    if (digits && left && right && text[i] >= '1' && text[i] <= '5') return true;
  }
  return false;
}

TEST(CorpusGenerator, LabelsAreTheNineInFixedOrder) {
  const std::vector<std::string> expected = {"HTTP Status",    "Security Alert",  "System Notification",
                                             "Error",          "Critical Error",  "Resource Usage",
                                             "User Action",    "Workflow Error",  "Deprecation Warning"};
  EXPECT_EQ(labels(), expected);
}

TEST(CorpusGenerator, SameSeedGivesIdenticalLines) {
  const auto a = generate({.count = 3000, .seed = 42});
  const auto b = generate({.count = 3000, .seed = 42});
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].timestamp, b[i].timestamp) << i;
    EXPECT_EQ(a[i].source, b[i].source) << i;
    EXPECT_EQ(a[i].message, b[i].message) << i;
    EXPECT_EQ(a[i].label, b[i].label) << i;
  }
}

TEST(CorpusGenerator, DifferentSeedsGiveDifferentLines) {
  const auto a = generate({.count = 1000, .seed = 1});
  const auto b = generate({.count = 1000, .seed = 2});
  std::size_t same = 0;
  for (std::size_t i = 0; i < a.size(); ++i) same += a[i].message == b[i].message ? 1 : 0;
  EXPECT_LT(same, 20u);
}

TEST(CorpusGenerator, CountIsExactForSmallCorpora) {
  for (const std::size_t count : {0u, 1u, 7u, 999u}) {
    EXPECT_EQ(generate({.count = count, .seed = 5}).size(), count);
  }
}

TEST(CorpusGenerator, LabelSharesFollowTheTargetMix) {
  const std::map<std::string, double> target = {
      {"HTTP Status", 20},    {"Security Alert", 13}, {"System Notification", 12},
      {"Error", 11},          {"Critical Error", 10}, {"Resource Usage", 9},
      {"User Action", 9},     {"Workflow Error", 8},  {"Deprecation Warning", 8}};
  const auto& lines = corpus20k();
  ASSERT_EQ(lines.size(), 20000u);
  std::map<std::string, std::size_t> counts;
  for (const auto& line : lines) ++counts[line.label];
  ASSERT_EQ(counts.size(), 9u);
  for (const auto& [label, percent] : target) {
    const double share = 100.0 * static_cast<double>(counts[label]) / static_cast<double>(lines.size());
    EXPECT_NEAR(share, percent, 3.0) << label;
  }
}

TEST(CorpusGenerator, LabelsAreInterleaved) {
  const auto& lines = corpus20k();
  std::size_t changes = 0;
  for (std::size_t i = 1; i < lines.size(); ++i) changes += lines[i].label != lines[i - 1].label ? 1 : 0;
  EXPECT_GT(changes, lines.size() * 3 / 4);
}

TEST(CorpusGenerator, MessagesAreVaried) {
  const auto& lines = corpus20k();
  std::set<std::string> distinct;
  std::map<std::string, std::set<std::string>> shapes;
  std::map<std::string, std::set<std::string>> sources;
  for (const auto& line : lines) {
    distinct.insert(line.message);
    shapes[line.label].insert(shape(line.message));
    sources[line.label].insert(line.source);
  }
  EXPECT_GE(distinct.size(), lines.size() * 8 / 10);
  for (const auto& label : labels()) {
    EXPECT_GE(shapes[label].size(), 25u) << label;
    EXPECT_GE(sources[label].size(), 5u) << label;
  }
}

TEST(CorpusGenerator, FieldsAreSingleLineValidUtf8) {
  for (const auto& line : corpus20k()) {
    for (const std::string* field : {&line.timestamp, &line.source, &line.message, &line.label}) {
      EXPECT_FALSE(field->empty()) << line.message;
      EXPECT_EQ(field->find_first_of("\r\n"), std::string::npos) << *field;
      EXPECT_TRUE(valid_utf8(*field)) << *field;
    }
  }
}

TEST(CorpusGenerator, TimestampsUseKnownFormats) {
  // Shapes of "2025-06-27 07:20:25", "1/14/2025 23:07", "2025-06-27T07:20:25Z", "2025-06-27T07:20:25.123+02:00".
  const std::set<std::string> formats = {"0-0-0 0:0:0", "0/0/0 0:0", "0-0-0T0:0:0Z", "0-0-0T0:0:0.0+0:0"};
  for (const auto& line : corpus20k()) {
    std::string digits_masked;
    for (const char c : line.timestamp) {
      if (!is_digit(c) || digits_masked.empty() || digits_masked.back() != '0') digits_masked += is_digit(c) ? '0' : c;
    }
    EXPECT_EQ(formats.count(digits_masked), 1u) << line.timestamp;
  }
}

TEST(CorpusGenerator, SomeLinesAreNotPlainAscii) {
  const auto& lines = corpus20k();
  const auto non_ascii = std::count_if(lines.begin(), lines.end(), [](const GeneratedLine& line) {
    return std::any_of(line.message.begin(), line.message.end(), [](char c) { return (c & 0x80) != 0; });
  });
  EXPECT_GT(non_ascii, 20);
  EXPECT_LT(non_ascii, static_cast<long>(lines.size() / 10));
}

// ---- label semantics ----

constexpr std::string_view kMethods[] = {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"};

TEST(CorpusSemantics, HttpStatusLinesShowARequestAndAStatusCode) {
  for (const auto& line : corpus20k()) {
    if (line.label != "HTTP Status") continue;
    const bool request = line.message.find("HTTP") != std::string::npos ||
                         std::any_of(std::begin(kMethods), std::end(kMethods),
                                     [&](std::string_view m) { return has_word(line.message, m); });
    EXPECT_TRUE(request) << line.message;
    EXPECT_TRUE(has_status_code(line.message)) << line.message;
  }
}

TEST(CorpusSemantics, DeprecationWarningsSaySomethingIsGoingAway) {
  for (const auto& line : corpus20k()) {
    if (line.label != "Deprecation Warning") continue;
    EXPECT_TRUE(contains_any(lowercase(line.message),
                             {"deprecat", "retire", "discontinu", "no longer", "outdated", "obsolete", "sunset",
                              "end of life", "end-of-life", "end of support", "phased out", "superseded",
                              "decommission", "removal", "removed", "going away", "unsupported",
                              "will be disabled", "support ends", "will be dropped", "switched off", "turned off",
                              "stop working"}))
        << line.message;
  }
}

TEST(CorpusSemantics, WorkflowErrorsReportABlockedBusinessStep) {
  for (const auto& line : corpus20k()) {
    if (line.label != "Workflow Error") continue;
    const std::string m = lowercase(line.message);
    EXPECT_TRUE(contains_any(m, {"fail", "abort", "could not", "unable", "stuck", "stall", "halt", "block",
                                 "reject", "not escalated", "skipped", "interrupt", "timed out", "expired",
                                 "suspend", "was not", "did not", "cannot", "matched no", "stopped", "error"}))
        << line.message;
  }
}

TEST(CorpusSemantics, RoutineLabelsNeverReportFailures) {
  for (const auto& line : corpus20k()) {
    if (line.label != "System Notification" && line.label != "User Action") continue;
    EXPECT_EQ(lowercase(line.message).find("fail"), std::string::npos) << line.label << ": " << line.message;
  }
}

TEST(CorpusSemantics, CriticalErrorsAreNotTransientRetries) {
  for (const auto& line : corpus20k()) {
    if (line.label != "Critical Error") continue;
    EXPECT_EQ(lowercase(line.message).find("retry"), std::string::npos) << line.message;
  }
}

TEST(CorpusSemantics, OpenStackResourceLinesAreResourceUsage) {
  for (const auto& line : corpus20k()) {
    if (contains_any(line.message, {"nova.compute.claims", "nova.compute.resource_tracker"})) {
      EXPECT_EQ(line.label, "Resource Usage") << line.message;
    }
    if (line.message.find("wsgi.server") != std::string::npos) {
      EXPECT_EQ(line.label, "HTTP Status") << line.message;
    }
  }
}

// ---- internals ----

TEST(CorpusInternals, EveryTemplateIsWellFormedAndExpands) {
  using namespace detail;
  for (const auto& table :
       {http_status_templates(), security_alert_templates(), system_notification_templates(), error_templates(),
        critical_error_templates(), resource_usage_templates(), user_action_templates(),
        workflow_error_templates(), deprecation_warning_templates()}) {
    EXPECT_GE(table.size(), 30u);
    for (const Template& t : table) {
      EXPECT_EQ(check_template(t.text), "");
      EXPECT_GT(t.weight, 0);
      Rng rng(7);
      for (int i = 0; i < 20; ++i) {
        LineContext ctx;
        ctx.epoch = 1735689600 + i * 7919;
        ctx.pair_key = rng.next();
        std::string out;
        EXPECT_NO_THROW(expand(t.text, rng, ctx, out)) << t.text;
        EXPECT_FALSE(out.empty());
      }
    }
  }
}

TEST(CorpusInternals, ExpanderSyntax) {
  using namespace detail;
  Rng rng(3);
  LineContext ctx;
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    std::string out;
    expand(R"(a{b|c{d|e}|}\{\|\}{$n:5:5})", rng, ctx, out);
    seen.insert(out);
  }
  EXPECT_EQ(seen, (std::set<std::string>{"ab{|}5", "acd{|}5", "ace{|}5", "a{|}5"}));
  EXPECT_NE(check_template("{a|b"), "");
  EXPECT_NE(check_template("a}"), "");
  EXPECT_NE(check_template("{$no_such_slot}"), "");
  std::string out;
  EXPECT_THROW(expand("{$no_such_slot}", rng, ctx, out), std::logic_error);
}

TEST(CorpusInternals, CivilTimeConversion) {
  const auto t = detail::to_civil(1709251199);  // 2024-02-29T23:59:59Z, a Thursday
  EXPECT_EQ(t.year, 2024);
  EXPECT_EQ(t.month, 2);
  EXPECT_EQ(t.day, 29);
  EXPECT_EQ(t.hour, 23);
  EXPECT_EQ(t.minute, 59);
  EXPECT_EQ(t.second, 59);
  EXPECT_EQ(t.weekday, 4);
}

}  // namespace
}  // namespace logclf::corpus
