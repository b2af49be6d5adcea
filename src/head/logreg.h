// The head stage: multinomial logistic regression over encoder features. Training minimises
// scikit-learn's LogisticRegression objective (softmax cross-entropy summed over samples, times the
// sample weights, plus ||W||^2 / (2C); intercepts not penalised) with L-BFGS.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "encoder/encoder.h"

namespace logclf::head {

// Training examples as a compressed sparse row matrix.
struct Dataset {
  std::size_t dim = 0;
  std::vector<std::size_t> row_start{0};
  std::vector<std::uint32_t> index;
  std::vector<float> value;
  std::vector<int> label;  // class index per row

  void add(const encoder::Features& x, int y);
  std::size_t rows() const { return label.size(); }
  // The given rows, in the given order (cross-validation folds).
  Dataset subset(std::span<const std::size_t> rows) const;
};

class LogisticRegression;

struct FitOptions {
  double C = 1.0;
  int max_iter = 1000;
  bool balanced = false;  // class weights n / (classes * count), as scikit-learn's "balanced"
  double tol = 1e-4;      // stop when every gradient component is at most tol (scikit-learn's gtol)
  // Start from this head's parameters instead of zeros (same classes and dim): along a path of growing C
  // the previous optimum is close to the next one.
  const LogisticRegression* warm_start = nullptr;
};

struct FitReport {
  int iterations = 0;
  bool converged = false;
  double loss = 0.0;
};

class LogisticRegression {
 public:
  LogisticRegression() = default;
  static LogisticRegression fit(const Dataset& data, int classes, const FitOptions& options,
                                FitReport* report = nullptr);
  // Rebuilds a head from its saved file contents (see docs/FORMATS.md).
  static LogisticRegression load(std::string_view bytes, const std::string& name);
  std::string serialize() const;
  // The size of the saved file of a head of this shape; nullopt for a shape no head may have.
  static std::optional<std::uint64_t> file_size(std::uint64_t classes, std::uint64_t features);

  int classes() const { return classes_; }
  std::size_t dim() const { return dim_; }
  // Fills `proba` (size classes()) with the class probabilities of `x`.
  void predict_proba(const encoder::Features& x, std::span<float> proba) const;
  // Fills `scores` (size classes()) with the logits W^T x + b of `x`.
  void decision_function(const encoder::Features& x, std::span<float> scores) const;
  // Divides every weight and intercept by `temperature` > 0: softmax(z / T) folded into the head, so a
  // calibrated head is saved and applied exactly like any other.
  void apply_temperature(double temperature);

  // Weights are stored feature-major: weight(j, k) = weights_[j * classes + k].
  float weight(std::size_t feature, int cls) const { return weights_[feature * classes_ + cls]; }
  float intercept(int cls) const { return intercepts_[cls]; }

 private:
  int classes_ = 0;
  std::size_t dim_ = 0;
  std::vector<float> weights_;
  std::vector<float> intercepts_;
};

}  // namespace logclf::head
