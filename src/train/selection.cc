#include "train/selection.h"

#include <algorithm>
#include <cmath>

#include "head/calibration.h"
#include "util/random.h"

namespace logclf::model_selection {

std::vector<int> stratified_folds(const std::vector<int>& labels, int classes, int folds, std::uint64_t seed) {
  std::vector<std::vector<std::size_t>> by_class(static_cast<std::size_t>(classes));
  for (std::size_t i = 0; i < labels.size(); ++i) by_class[static_cast<std::size_t>(labels[i])].push_back(i);
  std::vector<int> fold(labels.size());
  util::Random random(seed);
  int next = 0;  // carried across classes so that small classes do not all start in fold 0
  for (auto& members : by_class) {
    random.shuffle(members);
    for (const std::size_t i : members) {
      fold[i] = next;
      next = (next + 1) % folds;
    }
  }
  return fold;
}

Selection select_head(const head::Dataset& data, int classes, const head::FitOptions& fit,
                      const SelectionOptions& options) {
  Selection selection;
  selection.C = options.C.value_or(fit.C);
  if (options.C && !options.calibrate) return selection;
  const std::vector<double> grid = options.C ? std::vector<double>{*options.C} : options.grid;
  if (grid.empty()) return selection;
  // Every validation fold needs rows of several labels and every training part enough rows to fit on.
  const int folds = options.folds > 0 ? options.folds : data.rows() <= 2000 ? 5 : 3;
  if (folds < 2 || data.rows() < static_cast<std::size_t>(10 * folds)) {
    selection.note = "too few rows for " + std::to_string(std::max(folds, 2)) + "-fold cross-validation";
    return selection;
  }
  selection.folds = folds;
  const std::vector<int> fold = stratified_folds(data.label, classes, folds, options.seed);
  std::vector<std::vector<std::size_t>> train_rows(static_cast<std::size_t>(folds)), valid_rows(train_rows.size());
  for (std::size_t i = 0; i < data.rows(); ++i)
    for (int f = 0; f < folds; ++f) (fold[i] == f ? valid_rows : train_rows)[static_cast<std::size_t>(f)].push_back(i);
  std::vector<head::Dataset> train_parts;
  for (const auto& rows : train_rows) train_parts.push_back(data.subset(rows));

  const auto k = static_cast<std::size_t>(classes);
  std::vector<float> logits(data.rows() * k);
  std::vector<head::LogisticRegression> previous(static_cast<std::size_t>(folds));
  encoder::Features x;
  double best_loss = 0.0;
  for (const double C : grid) {
    Candidate candidate;
    candidate.C = C;
    std::size_t right = 0;
    for (std::size_t f = 0; f < train_parts.size(); ++f) {
      head::FitOptions o = fit;
      o.C = C;
      o.max_iter = std::min(o.max_iter, options.max_iter);
      o.warm_start = previous[f].classes() == classes ? &previous[f] : nullptr;
      previous[f] = head::LogisticRegression::fit(train_parts[f], classes, o);
      for (const std::size_t r : valid_rows[f]) {
        x.index.assign(data.index.begin() + static_cast<std::ptrdiff_t>(data.row_start[r]),
                       data.index.begin() + static_cast<std::ptrdiff_t>(data.row_start[r + 1]));
        x.value.assign(data.value.begin() + static_cast<std::ptrdiff_t>(data.row_start[r]),
                       data.value.begin() + static_cast<std::ptrdiff_t>(data.row_start[r + 1]));
        const std::span<float> z(logits.data() + r * k, k);
        previous[f].decision_function(x, z);
        right += static_cast<std::size_t>(std::max_element(z.begin(), z.end()) - z.begin()) ==
                 static_cast<std::size_t>(data.label[r]);
      }
    }
    candidate.accuracy = static_cast<double>(right) / static_cast<double>(data.rows());
    candidate.temperature = options.calibrate ? head::fit_temperature(logits, data.label, classes) : 1.0;
    candidate.log_loss = head::log_loss(logits, data.label, classes, candidate.temperature);
    selection.candidates.push_back(candidate);
    if (selection.candidates.size() == 1 || candidate.log_loss < best_loss) {
      best_loss = candidate.log_loss;
      selection.C = candidate.C;
      selection.temperature = candidate.temperature;
    } else {
      break;  // the out-of-fold loss is close to unimodal in log C: the first worse step ends the search
    }
  }
  return selection;
}

}  // namespace logclf::model_selection
