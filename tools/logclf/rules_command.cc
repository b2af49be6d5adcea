// `logclf rules test` and `logclf rules check`: try and validate rules files.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <memory>
#include <string>

#include "command.h"
#include "logclf/rules.h"

namespace logclf::cli {
namespace {

int run_rules_test(const std::string& file, const std::string& message, const std::string& source) {
  const RuleSet rules = file == "default" ? RuleSet::defaults() : RuleSet::load(file);
  const auto match = rules.match(message, source);
  if (!match) {
    fmt::print("no rule matches ({} rules tried)\n", rules.size());
    return 1;
  }
  const Rule& r = rules.rules()[*match];
  fmt::print("rule #{} '{}' matches: label '{}'\n  pattern: {}\n", *match + 1, r.name, r.label, r.pattern);
  return 0;
}

int run_rules_check(const std::string& file) {
  const RuleSet rules = file == "default" ? RuleSet::defaults() : RuleSet::load(file);
  for (std::size_t i = 0; i < rules.size(); ++i) {
    const Rule& r = rules.rules()[i];
    fmt::print("{:>3}. {:<28} {:<22} {}{}{}\n", i + 1, r.name, r.label, r.ignore_case ? "(?i)" : "", r.pattern,
               r.sources.empty() ? "" : fmt::format("  [sources: {}]", fmt::join(r.sources, ", ")));
  }
  fmt::print("{} rules OK\n", rules.size());
  return 0;
}

}  // namespace

void add_rules_commands(CLI::App& app, Commands& commands) {
  struct RulesArgs {
    std::string file, message, source;
  };
  auto args = std::make_shared<RulesArgs>();
  auto* rules_cmd = app.add_subcommand("rules", "inspect and try rules files");
  rules_cmd->require_subcommand(1);
  auto* rules_test = rules_cmd->add_subcommand("test", "show which rule matches a message");
  rules_test->add_option("FILE", args->file, "rules file, or 'default' for the built-in rules")->required();
  rules_test->add_option("MESSAGE", args->message, "log message")->required();
  rules_test->add_option("--source", args->source, "the line's source, for rules with a source filter");
  auto* rules_check = rules_cmd->add_subcommand("check", "validate a rules file and list its rules");
  rules_check->add_option("FILE", args->file, "rules file, or 'default' for the built-in rules")->required();
  commands.push_back({rules_test, [args] { return run_rules_test(args->file, args->message, args->source); }});
  commands.push_back({rules_check, [args] { return run_rules_check(args->file); }});
}

}  // namespace logclf::cli
