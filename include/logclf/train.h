// Training a classifier on labelled lines, and evaluating a classifier.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "logclf/cache.h"
#include "logclf/classifier.h"
#include "logclf/evaluation.h"
#include "logclf/rules.h"
#include "logclf/types.h"

namespace logclf {

enum class ClassWeight { none, balanced };

struct TrainOptions {
  double test_size = 0.3;        // held-out share, stratified by label; 0 trains on every row
  std::uint64_t seed = 42;       // of the split
  bool refit = false;            // after reporting on the held-out rows, fit the final model on all rows
  bool all_rows = false;         // fit the head on rule-matched rows too (default: only rows no rule matches)
  std::vector<std::string> exclude_sources;  // rows from these sources are left out entirely
  double C = 1.0;                // inverse L2 strength
  int max_iter = 1000;
  ClassWeight class_weight = ClassWeight::balanced;
  double threshold = 0.5;
  RuleSet rules = RuleSet::defaults();
  EncoderOptions encoder;        // kind empty = lexical
  std::string data_name;         // recorded in the bundle's training metadata with a checksum of the rows
};

struct TrainResult {
  std::optional<Classifier> classifier;
  std::size_t rows = 0, rows_excluded = 0, rows_rule_matched = 0, rows_train = 0, rows_test = 0;
  int iterations = 0;
  bool converged = false;
  // The head alone (arg-max of its probabilities) on the held-out rows; empty when test_size is 0.
  std::optional<ClassificationReport> held_out;
};

TrainResult train(std::span<const LabeledLine> data, const TrainOptions& options);

struct RuleEvaluation {
  std::string name;
  std::string label;
  std::size_t matched = 0;   // lines the rule decided
  std::size_t correct = 0;   // of which its label was the true one
};

struct PipelineEvaluation {
  ClassificationReport hybrid;          // the whole pipeline; Uncertain counts as a (wrong) label
  std::size_t total = 0, by_rule = 0, by_model = 0, uncertain = 0;
  std::vector<RuleEvaluation> rules;    // every rule, in order
  // The head alone (arg-max, no threshold) on the lines no rule decided; empty when rules decided all.
  std::optional<ClassificationReport> model;
  // With a cache: its mode and how many lines it answered.
  std::optional<CacheMode> cache_mode;
  CacheStats cache;
  std::string json() const;
};

// Classifies `data` in order (through `cache` unless null, to measure its effect on accuracy).
PipelineEvaluation evaluate(const Classifier& classifier, std::span<const LabeledLine> data,
                            MessageCache* cache = nullptr);

}  // namespace logclf
