// Rules measured against labelled rows, and rules learned from them.
//
// A rule's precision is measured the way the pipeline applies rules: each row counts for the first rule
// that matches it. Mined rules are exact templates (the message with numbers, hex ids and paths masked the
// way the template cache masks them) seen often with a single label: a labelled file turned into fast,
// explainable rules.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "logclf/rules.h"
#include "logclf/train.h"
#include "logclf/types.h"

namespace logclf::rule_check {

struct RuleStats {
  std::size_t matched = 0;  // rows the rule decided (first match)
  std::size_t correct = 0;  // of which its label was the row's
};

// Per rule of `rules`, on data[rows[...]].
std::vector<RuleStats> measure(const RuleSet& rules, std::span<const LabeledLine> data,
                               std::span<const std::size_t> rows);

// An anchored RE2 pattern matching `message` and every message of its template: the literal text quoted,
// each masked part a character class.
std::string template_pattern(std::string_view message);

struct Mined {
  std::vector<Rule> rules;   // one per template, most rows first
  std::size_t rows = 0;      // rows they decide among those mined from
};

// Templates of data[rows[...]] occurring at least `min_count` times, all with one label, whose pattern
// decides no row of another label among `rows`.
Mined mine(std::span<const LabeledLine> data, std::span<const std::size_t> rows, std::size_t min_count);

// The rules a model trained with `options` on data[rows[...]] keeps: built-in rules for labels the data
// lacks left out, given ones refused, imprecise ones dropped, mined ones proposed and possibly added.
// Fills result.rules, result.mined and result.mined_rows.
RuleSet fit(std::span<const LabeledLine> data, std::span<const std::size_t> rows, const TrainOptions& options,
            TrainResult& result);

}  // namespace logclf::rule_check
