// Choosing the head's regularisation and calibrating its probabilities on the training rows alone:
// stratified k-fold cross-validation over a grid of C, scored by the out-of-fold log loss after
// temperature scaling; the winner's temperature is fitted on the same out-of-fold logits.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "head/logreg.h"
#include "logclf/train.h"

namespace logclf::model_selection {

struct SelectionOptions {
  std::optional<double> C;     // fixed C; empty = choose from `grid`
  std::vector<double> grid;    // candidates, ascending
  bool calibrate = true;       // fit a temperature
  int folds = 0;               // 0: 5 up to 2,000 rows, else 3
  std::uint64_t seed = 42;
  // Cross-validation fits stop here: ranking the candidates needs their optimum only roughly, and the
  // weakly regularised ones converge slowly.
  int max_iter = 300;
};

using Candidate = CvCandidate;

struct Selection {
  double C = 1.0;
  double temperature = 1.0;
  int folds = 0;                       // 0: no cross-validation ran (fixed C without calibration, too few rows)
  std::vector<Candidate> candidates;   // in the order tried
  std::string note;                    // why cross-validation did not run, when it did not
};

// Rows are assigned to folds per class, so each fold keeps the class shares; the same seed gives the same
// folds. A class with fewer rows than folds is simply absent from some validation folds.
std::vector<int> stratified_folds(const std::vector<int>& labels, int classes, int folds, std::uint64_t seed);

Selection select_head(const head::Dataset& data, int classes, const head::FitOptions& fit,
                      const SelectionOptions& options);

}  // namespace logclf::model_selection
