#include "logclf/rules.h"

#include <re2/re2.h>
#include <re2/set.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "io/regular_file.h"
#include "logclf/types.h"
#include "rules/default_rules.h"

namespace logclf {

struct RuleSet::Impl {
  std::vector<Rule> rules;
  std::string text;
  std::unique_ptr<RE2::Set> set;  // null when there are no rules
};

namespace {

std::string where(const std::string& name, const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  if (mark.is_null()) return name;
  return name + ":" + std::to_string(mark.line + 1);
}

std::string required_string(const YAML::Node& entry, const char* key, const std::string& at) {
  const YAML::Node value = entry[key];
  if (!value) throw Error(at + ": rule has no '" + key + "'");
  if (!value.IsScalar()) throw Error(at + ": '" + key + "' must be a string");
  std::string s = value.as<std::string>();
  if (s.empty()) throw Error(at + ": '" + key + "' is empty");
  return s;
}

bool optional_bool(const YAML::Node& node, const char* key, bool fallback, const std::string& at) {
  const YAML::Node value = node[key];
  if (!value) return fallback;
  try {
    return value.as<bool>();
  } catch (const YAML::Exception&) {
    throw Error(at + ": '" + key + "' must be true or false");
  }
}

RE2::Options re2_options() {
  RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(int64_t{64} << 20);
  return options;
}

// Python's re.search semantics differ from RE2's only in features RE2 refuses (backreferences,
// look-around), which are reported at load time; case folding is expressed per pattern so that every
// rule can share one RE2::Set.
std::string effective_pattern(const Rule& rule) {
  return rule.ignore_case ? "(?i)" + rule.pattern : rule.pattern;
}

}  // namespace

RuleSet::RuleSet() : impl_(std::make_shared<Impl>()) {}

RuleSet RuleSet::parse(std::string_view yaml_text, const std::string& name) {
  auto impl = std::make_shared<Impl>();
  impl->text = std::string(yaml_text);
  YAML::Node root;
  try {
    root = YAML::Load(impl->text);
  } catch (const YAML::Exception& e) {
    throw Error(name + ":" + std::to_string(e.mark.line + 1) + ": invalid YAML: " + e.msg);
  }
  if (!root || root.IsNull()) throw Error(name + ": empty rules file");
  if (!root.IsMap()) throw Error(name + ": a rules file is a mapping with 'version' and 'rules'");
  if (const YAML::Node version = root["version"]) {
    if (!version.IsScalar() || version.as<std::string>() != "1")
      throw Error(where(name, version) + ": unsupported rules file version '" +
                  (version.IsScalar() ? version.as<std::string>() : std::string("?")) +
                  "' (this logclf reads version 1)");
  }
  const bool default_ignore_case = optional_bool(root, "ignore_case", false, name);
  const YAML::Node list = root["rules"];
  if (!list) throw Error(name + ": no 'rules' list");
  if (!list.IsSequence()) throw Error(where(name, list) + ": 'rules' must be a list");

  auto set = std::make_unique<RE2::Set>(re2_options(), RE2::UNANCHORED);
  for (const YAML::Node& entry : list) {
    const std::string at = where(name, entry);
    if (!entry.IsMap()) throw Error(at + ": a rule is a mapping with name, pattern and label");
    Rule rule;
    rule.name = required_string(entry, "name", at);
    const std::string rule_at = at + ": rule '" + rule.name + "'";
    rule.pattern = required_string(entry, "pattern", rule_at);
    rule.label = required_string(entry, "label", rule_at);
    rule.ignore_case = optional_bool(entry, "ignore_case", default_ignore_case, rule_at);
    if (const YAML::Node sources = entry["sources"]) {
      if (sources.IsScalar()) {
        rule.sources.push_back(sources.as<std::string>());
      } else if (sources.IsSequence()) {
        for (const YAML::Node& s : sources) {
          if (!s.IsScalar()) throw Error(rule_at + ": 'sources' must be a list of strings");
          rule.sources.push_back(s.as<std::string>());
        }
      } else {
        throw Error(rule_at + ": 'sources' must be a list of strings");
      }
    }
    for (const auto& known : impl->rules)
      if (known.name == rule.name) throw Error(rule_at + ": duplicate rule name");
    for (auto it = entry.begin(); it != entry.end(); ++it) {
      const std::string key = it->first.as<std::string>();
      if (key != "name" && key != "pattern" && key != "label" && key != "sources" && key != "ignore_case")
        throw Error(rule_at + ": unknown key '" + key + "'");
    }
    const std::string pattern = effective_pattern(rule);
    RE2 check(pattern, re2_options());
    if (!check.ok())
      throw Error(rule_at + ": pattern cannot be compiled: " + check.error() + " (patterns use RE2 syntax: "
                  "no backreferences or look-around)");
    std::string error;
    if (set->Add(pattern, &error) < 0) throw Error(rule_at + ": pattern cannot be compiled: " + error);
    impl->rules.push_back(std::move(rule));
  }
  if (impl->rules.empty()) {
    set.reset();
  } else if (!set->Compile()) {
    throw Error(name + ": the rules are too large to compile together");
  }
  impl->set = std::move(set);
  RuleSet result;
  result.impl_ = std::move(impl);
  return result;
}

RuleSet RuleSet::load(const std::string& path) {
  return parse(io::read_regular_file(path, io::FileSize(io::kMaxTextFileBytes)), path);
}

RuleSet RuleSet::from_rules(const std::vector<Rule>& rules, std::string_view header) {
  YAML::Emitter out;
  out << YAML::BeginMap << YAML::Key << "version" << YAML::Value << 1 << YAML::Key << "rules" << YAML::Value
      << YAML::BeginSeq;
  for (const Rule& rule : rules) {
    out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << rule.name;
    out << YAML::Key << "pattern" << YAML::Value << YAML::SingleQuoted << rule.pattern;
    out << YAML::Key << "label" << YAML::Value << rule.label;
    if (rule.ignore_case) out << YAML::Key << "ignore_case" << YAML::Value << true;
    if (!rule.sources.empty()) out << YAML::Key << "sources" << YAML::Value << YAML::Flow << rule.sources;
    out << YAML::EndMap;
  }
  out << YAML::EndSeq << YAML::EndMap;
  std::string text;
  for (std::size_t start = 0; start < header.size();) {
    const std::size_t end = std::min(header.find('\n', start), header.size());
    text += "# " + std::string(header.substr(start, end - start)) + "\n";
    start = end + 1;
  }
  text += out.c_str();
  text += "\n";
  return parse(text, "<rules>");
}

std::string_view RuleSet::default_text() { return rules::kDefaultRules; }

RuleSet RuleSet::defaults() {
  static const RuleSet set = parse(default_text(), "<default rules>");
  return set;
}

std::optional<std::size_t> RuleSet::match(std::string_view message, std::string_view source) const {
  if (!impl_->set) return std::nullopt;
  thread_local std::vector<int> hits;
  hits.clear();
  if (!impl_->set->Match(re2::StringPiece(message.data(), message.size()), &hits)) return std::nullopt;
  std::sort(hits.begin(), hits.end());
  for (int index : hits) {
    const Rule& rule = impl_->rules[static_cast<std::size_t>(index)];
    if (rule.sources.empty() ||
        std::find(rule.sources.begin(), rule.sources.end(), source) != rule.sources.end())
      return static_cast<std::size_t>(index);
  }
  return std::nullopt;
}

const std::vector<Rule>& RuleSet::rules() const { return impl_->rules; }
const std::string& RuleSet::text() const { return impl_->text; }

}  // namespace logclf
