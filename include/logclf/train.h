// Training a classifier on labelled lines (evaluating one is logclf/evaluation.h).
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
  // Inverse L2 strength. Empty: chosen from `C_grid` by stratified `cv_folds`-fold cross-validation on the
  // training rows (lowest out-of-fold log loss).
  std::optional<double> C;
  std::vector<double> C_grid = {0.1, 1, 10, 100, 1000};
  int cv_folds = 0;              // 0: 5 folds up to 2,000 training rows, 3 above (the cost grows with the rows)
  // Temperature scaling of the head's probabilities, fitted on the out-of-fold predictions: a head whose
  // probabilities say how often it is right, so the threshold means what it says.
  bool calibrate = true;
  int max_iter = 1000;
  ClassWeight class_weight = ClassWeight::balanced;
  double threshold = 0.5;
  // The rules. When they are the built-in ones (`rules_given` false) a rule whose label is not among the
  // training labels is left out of the model; given rules with such a label are an error unless
  // `allow_new_labels` (a deliberate rule-only label).
  RuleSet rules = RuleSet::defaults();
  bool rules_given = false;
  bool allow_new_labels = false;
  // A rule right on fewer than `min_rule_precision` of at least `min_rule_matches` training rows it decides
  // is dropped from the model, unless `keep_all_rules`.
  double min_rule_precision = 0.9;
  std::size_t min_rule_matches = 20;
  bool keep_all_rules = false;
  // Rules learned from the data: exact templates seen at least `mine_rules` times (0: off) with one label
  // among the rows no rule decides; proposed in TrainResult::mined, and put in the model after the other
  // rules with `use_mined_rules`.
  std::size_t mine_rules = 0;
  bool use_mined_rules = false;
  EncoderOptions encoder;        // kind empty = lexical
  std::string data_name;         // recorded in the bundle's training metadata with a checksum of the rows
};

// One C tried by the cross-validation that chooses the head's regularisation.
struct CvCandidate {
  double C = 0.0;
  double log_loss = 0.0;      // mean out-of-fold log loss at `temperature`
  double temperature = 1.0;   // fitted on the out-of-fold logits
  double accuracy = 0.0;      // out-of-fold arg-max accuracy
};

struct RuleReport {
  std::string name, label;
  std::size_t matched = 0, correct = 0;  // on the training rows (before any split), first match
  std::string status;                    // "kept", or why the rule is not in the model
  bool kept = true;
};

struct TrainResult {
  std::optional<Classifier> classifier;
  std::vector<RuleReport> rules;         // every rule considered, in order (mined ones last)
  std::optional<RuleSet> mined;          // with mine_rules: the rules proposed
  std::size_t mined_rows = 0;            // rows those rules decide
  std::size_t rows = 0, rows_excluded = 0, rows_rule_matched = 0, rows_train = 0, rows_test = 0;
  int iterations = 0;
  bool converged = false;
  double C = 1.0;                  // the C of the saved head
  double temperature = 1.0;        // its calibration temperature (1: none)
  int cv_folds = 0;                // 0: C was not cross-validated
  std::vector<CvCandidate> candidates;  // the C values cross-validation tried, in order
  std::string selection_note;      // why cross-validation did not run, when it did not
  // On the held-out rows (empty when test_size is 0): the head alone (arg-max of its probabilities), the
  // whole pipeline at the threshold (Uncertain counts as wrong), and the reliability of the head's top
  // probability.
  std::optional<ClassificationReport> held_out;
  std::optional<ClassificationReport> held_out_pipeline;
  std::optional<CalibrationReport> held_out_calibration;
  std::size_t held_out_uncertain = 0, held_out_by_rule = 0;
};

TrainResult train(std::span<const LabeledLine> data, const TrainOptions& options);

}  // namespace logclf
