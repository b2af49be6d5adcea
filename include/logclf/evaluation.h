// Evaluation arithmetic: confusion matrix, per-label precision / recall / F1, accuracy, macro and
// weighted averages, in the layout of scikit-learn's classification_report, and a PNG heatmap.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

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

}  // namespace logclf
