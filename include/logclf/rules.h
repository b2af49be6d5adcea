// The rules stage: an ordered list of regular expressions; the first rule (in file order) that matches a
// line gives its label. Patterns have the semantics of Python's re.search (unanchored) and are compiled
// with RE2 into one set, so matching is linear in the line's length whatever the patterns.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace logclf {

struct Rule {
  std::string name;
  std::string pattern;
  std::string label;
  std::vector<std::string> sources;  // the rule applies only to these sources; empty = every source
  bool ignore_case = false;
};

class RuleSet {
 public:
  RuleSet();  // no rules: matches nothing
  // Parses a rules file (YAML, documented in docs/FORMATS.md). `name` is used in error messages.
  // Throws Error naming the rule (and line) for a bad entry or a pattern RE2 cannot compile.
  static RuleSet parse(std::string_view yaml_text, const std::string& name);
  static RuleSet load(const std::string& path);
  // A set of these rules, in this order; its text() is the YAML a rules file would hold (the rules of a
  // model whose rules were filtered or extended are saved that way). `header` is put before it as comments.
  static RuleSet from_rules(const std::vector<Rule>& rules, std::string_view header = {});
  // The rules bundled with logclf (the original project's eight, and a few more).
  static RuleSet defaults();
  static std::string_view default_text();

  // Index into rules() of the first rule matching `message` (and whose source filter admits `source`).
  std::optional<std::size_t> match(std::string_view message, std::string_view source = {}) const;
  const std::vector<Rule>& rules() const;
  // The YAML text the set was parsed from (stored in model bundles as it was written).
  const std::string& text() const;
  std::size_t size() const { return rules().size(); }

 private:
  struct Impl;
  std::shared_ptr<const Impl> impl_;
};

}  // namespace logclf
