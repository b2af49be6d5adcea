#include "train/rule_check.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <unordered_map>

#include "logclf/cache.h"
#include "logclf/types.h"

namespace logclf::rule_check {

std::vector<RuleStats> measure(const RuleSet& rules, std::span<const LabeledLine> data,
                               std::span<const std::size_t> rows) {
  std::vector<RuleStats> stats(rules.size());
  for (const std::size_t r : rows) {
    const auto hit = rules.match(data[r].message, data[r].source);
    if (!hit) continue;
    ++stats[*hit].matched;
    stats[*hit].correct += rules.rules()[*hit].label == data[r].label;
  }
  return stats;
}

namespace {

// RE2::QuoteMeta escapes every byte that is not a word character ("\ " for a space); a rule a person reviews
// reads better with only the regular-expression operators escaped.
void append_quoted(std::string_view text, std::string& out) {
  for (const char c : text) {
    if (std::string_view("\\.^$|?*+()[]{}").find(c) != std::string_view::npos) out.push_back('\\');
    out.push_back(c);
  }
}

}  // namespace

std::string template_pattern(std::string_view message) {
  // The masks of message_template() (cache.h): "<*>" stands for a run of digits or a word of hex digits,
  // "<path>" for a rooted path of two or more parts, which ends where the template cache ends it.
  static constexpr std::string_view kAny = "<*>", kPath = "<path>";
  const std::string t = message_template(message);
  std::string pattern = "^";
  std::size_t literal = 0;
  for (std::size_t i = 0; i < t.size();) {
    const bool any = t.compare(i, kAny.size(), kAny) == 0;
    const bool path = !any && t.compare(i, kPath.size(), kPath) == 0;
    if (!any && !path) {
      ++i;
      continue;
    }
    append_quoted(std::string_view(t).substr(literal, i - literal), pattern);
    pattern += any ? "[0-9A-Fa-f]+" : "[^\\s,;\"')\\]}>|]+";
    i += any ? kAny.size() : kPath.size();
    literal = i;
  }
  append_quoted(std::string_view(t).substr(literal), pattern);
  return pattern + "$";
}

Mined mine(std::span<const LabeledLine> data, std::span<const std::size_t> rows, std::size_t min_count) {
  struct Group {
    std::size_t first = 0, count = 0;
    std::string label;
    bool one_label = true;
  };
  std::unordered_map<std::string, Group> groups;
  std::vector<const std::string*> order;  // templates in order of first appearance: deterministic output
  for (const std::size_t r : rows) {
    const std::string t = message_template(data[r].message);
    auto [it, fresh] = groups.try_emplace(t);
    Group& g = it->second;
    if (fresh) {
      g.first = r;
      g.label = data[r].label;
      order.push_back(&it->first);
    } else if (g.label != data[r].label) {
      g.one_label = false;
    }
    ++g.count;
  }
  std::vector<const Group*> kept;
  for (const std::string* t : order) {
    const Group& g = groups.at(*t);
    if (g.one_label && g.count >= std::max<std::size_t>(min_count, 1)) kept.push_back(&g);
  }
  std::stable_sort(kept.begin(), kept.end(), [](const Group* a, const Group* b) { return a->count > b->count; });
  std::vector<Rule> candidates;
  for (std::size_t k = 0; k < kept.size(); ++k) {
    Rule rule;
    rule.name = "mined-" + std::to_string(k + 1);
    rule.pattern = template_pattern(data[kept[k]->first].message);
    rule.label = kept[k]->label;
    candidates.push_back(std::move(rule));
  }
  Mined mined;
  // A masked part may let a pattern match rows of another template too: keep only the rules that are right
  // on every row they decide, measured again after each drop (a dropped rule's rows fall to later rules).
  for (bool dropped = true; dropped && !candidates.empty();) {
    dropped = false;
    const std::vector<RuleStats> stats = measure(RuleSet::from_rules(candidates), data, rows);
    std::vector<Rule> right;
    mined.rows = 0;
    for (std::size_t k = 0; k < candidates.size(); ++k) {
      if (stats[k].matched == 0 || stats[k].correct != stats[k].matched) {
        dropped = true;
        continue;
      }
      mined.rows += stats[k].matched;
      right.push_back(std::move(candidates[k]));
    }
    candidates = std::move(right);
  }
  mined.rules = std::move(candidates);
  for (std::size_t k = 0; k < mined.rules.size(); ++k) mined.rules[k].name = "mined-" + std::to_string(k + 1);
  return mined;
}

RuleSet fit(std::span<const LabeledLine> data, std::span<const std::size_t> rows, const TrainOptions& options,
            TrainResult& result) {
  std::set<std::string_view> labels;
  for (const std::size_t r : rows) labels.insert(data[r].label);
  std::vector<Rule> kept;
  std::vector<RuleReport> reports;
  for (const Rule& rule : options.rules.rules()) {
    RuleReport report{rule.name, rule.label, 0, 0, "kept", true};
    if (labels.count(rule.label) == 0) {
      if (options.rules_given && !options.allow_new_labels)
        throw Error("rule '" + rule.name + "' gives the label '" + rule.label +
                    "', which no training row has: remove the rule, or pass --allow-new-labels to keep a label "
                    "only rules give");
      if (!options.rules_given) {
        report.status = "left out: its label is not among the training labels";
        report.kept = false;
      }
    }
    if (report.kept) kept.push_back(rule);
    reports.push_back(std::move(report));
  }
  // Precision, measured again after each drop: a dropped rule's rows fall to the rules after it.
  std::vector<RuleStats> stats;
  for (bool dropped = true; dropped;) {
    dropped = false;
    stats = measure(RuleSet::from_rules(kept), data, rows);
    std::vector<Rule> next;
    for (std::size_t k = 0; k < kept.size(); ++k) {
      const double precision =
          stats[k].matched ? static_cast<double>(stats[k].correct) / static_cast<double>(stats[k].matched) : 1.0;
      const bool allowed_new = options.allow_new_labels && labels.count(kept[k].label) == 0;
      if (!options.keep_all_rules && !allowed_new && stats[k].matched >= options.min_rule_matches &&
          precision < options.min_rule_precision) {
        auto it = std::find_if(reports.begin(), reports.end(), [&](const RuleReport& r) { return r.name == kept[k].name; });
        char text[160];
        std::snprintf(text, sizeof text, "dropped: precision %.3f on %zu rows is below %.3g", precision,
                      stats[k].matched, options.min_rule_precision);
        it->status = text;
        it->kept = false;
        it->matched = stats[k].matched;
        it->correct = stats[k].correct;
        dropped = true;
        continue;
      }
      next.push_back(kept[k]);
    }
    kept = std::move(next);
  }
  for (std::size_t k = 0; k < kept.size(); ++k) {
    auto it = std::find_if(reports.begin(), reports.end(), [&](const RuleReport& r) { return r.name == kept[k].name; });
    it->matched = stats[k].matched;
    it->correct = stats[k].correct;
  }
  RuleSet rules = kept.size() == options.rules.size() ? options.rules : RuleSet::from_rules(kept);
  if (options.mine_rules > 0) {
    std::vector<std::size_t> left;
    for (const std::size_t r : rows)
      if (!rules.match(data[r].message, data[r].source)) left.push_back(r);
    Mined mined = mine(data, left, options.mine_rules);
    result.mined_rows = mined.rows;
    result.mined = RuleSet::from_rules(mined.rules, "Rules mined by logclf train --mine-rules " +
                                                        std::to_string(options.mine_rules) + " from " +
                                                        options.data_name + ": review before use.");
    if (options.use_mined_rules && !mined.rules.empty()) {
      const std::vector<RuleStats> mined_stats = measure(*result.mined, data, left);
      for (std::size_t k = 0; k < mined.rules.size(); ++k)
        reports.push_back({mined.rules[k].name, mined.rules[k].label, mined_stats[k].matched, mined_stats[k].correct,
                           "kept (mined)", true});
      kept.insert(kept.end(), mined.rules.begin(), mined.rules.end());
      rules = RuleSet::from_rules(kept);
    }
  }
  result.rules = std::move(reports);
  return rules;
}

}  // namespace logclf::rule_check
