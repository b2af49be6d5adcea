// Evaluating a classifier on labelled lines (evaluate()), and the arithmetic it reports with: confusion
// matrix, per-label precision / recall / F1, accuracy, macro and weighted averages, in the layout of
// scikit-learn's classification_report, the reliability of probabilities, and a PNG heatmap.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "logclf/cache.h"
#include "logclf/classifier.h"
#include "logclf/types.h"

namespace logclf {

struct LabelScores {
  std::string label;
  double precision = 0.0;  // NaN when undefined (no prediction of the label)
  double recall = 0.0;     // NaN when undefined (no true instance of the label)
  double f1 = 0.0;         // NaN when precision or recall is undefined
  std::size_t support = 0; // number of true instances
};

class ClassificationReport {
 public:
  // `truth[i]` and `predicted[i]` are the labels of example i. Labels are the sorted union of both.
  static ClassificationReport compute(std::span<const std::string> truth,
                                      std::span<const std::string> predicted);

  const std::vector<std::string>& labels() const { return labels_; }
  const std::vector<LabelScores>& per_label() const { return per_label_; }
  // confusion()[t][p]: examples whose true label is labels()[t] and predicted label labels()[p].
  const std::vector<std::vector<std::size_t>>& confusion() const { return confusion_; }
  double accuracy() const { return accuracy_; }
  // Averages as scikit-learn computes them with zero_division=0: undefined scores count as 0.
  // The averages run over labels with support > 0 or at least one prediction (all of labels()).
  const LabelScores& macro_avg() const { return macro_; }
  const LabelScores& weighted_avg() const { return weighted_; }
  std::size_t total() const { return total_; }

  // scikit-learn classification_report layout, two decimals (undefined scores print as 0.00).
  std::string text(int digits = 2) const;
  // The confusion matrix as an aligned text table with row (true) and column (predicted) labels.
  std::string confusion_text() const;
  // JSON object: {"labels":[...], "per_label":{label:{precision,recall,f1,support}}, "accuracy",
  // "macro_avg", "weighted_avg", "confusion":[[...]], "total"}; undefined scores are null.
  std::string json() const;

 private:
  std::vector<std::string> labels_;
  std::vector<LabelScores> per_label_;
  std::vector<std::vector<std::size_t>> confusion_;
  double accuracy_ = 0.0;
  LabelScores macro_, weighted_;
  std::size_t total_ = 0;
};

// How far a model's stated confidence is from how often it is right (reliability): predictions grouped by
// their top probability into equal-width bins; the expected calibration error is the support-weighted mean
// of |accuracy - mean confidence| over the bins (Naeini et al. 2015), 0 for a perfectly calibrated model.
struct ScoredPrediction {
  double confidence = 0.0;  // the top probability
  bool correct = false;     // whether its label was the true one
};

struct CalibrationBin {
  double low = 0.0, high = 0.0;  // confidence range [low, high)
  std::size_t count = 0;
  double confidence = 0.0;       // mean top probability of the bin (NaN when empty)
  double accuracy = 0.0;         // share right (NaN when empty)
};

class CalibrationReport {
 public:
  static CalibrationReport compute(std::span<const ScoredPrediction> predictions, int bins = 10);

  double ece() const { return ece_; }
  double max_gap() const { return max_gap_; }   // the largest |accuracy - confidence| of a non-empty bin
  const std::vector<CalibrationBin>& bins() const { return bins_; }
  std::size_t total() const { return total_; }
  // A reliability table (one line per non-empty bin) and the ECE.
  std::string text() const;
  // {"ece", "max_gap", "total", "bins": [{"low","high","count","confidence","accuracy"}]}
  std::string json() const;

 private:
  std::vector<CalibrationBin> bins_;
  double ece_ = 0.0, max_gap_ = 0.0;
  std::size_t total_ = 0;
};

// Renders the confusion matrix as a PNG heatmap: labels on both axes (true on the rows, predicted on the
// columns), the count in every cell, a sequential colour scale with legible text on every cell, a title.
// Written atomically. Throws Error on failure.
void write_heatmap_png(const ClassificationReport& report, const std::string& path,
                       std::string_view title);

// ---- the pipeline on labelled lines ------------------------------------------------------------------
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
  // The reliability of the head's top probability on those lines.
  std::optional<CalibrationReport> model_calibration;
  // With a cache: its mode and how many lines it answered.
  std::optional<CacheMode> cache_mode;
  CacheStats cache;
  std::string json() const;
};

// Classifies `data` in order (through `cache` unless null, to measure its effect on accuracy).
PipelineEvaluation evaluate(const Classifier& classifier, std::span<const LabeledLine> data,
                            MessageCache* cache = nullptr);

}  // namespace logclf
