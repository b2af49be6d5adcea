#include "head/logreg.h"

#include <lbfgs.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <thread>

#include "logclf/types.h"

namespace logclf::head {
namespace {

constexpr char kHeadMagic[8] = {'L', 'C', 'L', 'F', 'H', 'E', 'A', 'D'};
constexpr std::size_t kHeadHeader = sizeof kHeadMagic + 4 + 8;  // the magic, u32 classes, u64 features

// The rows are split into a fixed number of chunks whose gradients are summed in chunk order, so the result
// is identical whatever the number of threads that computes them.
constexpr std::size_t kChunks = 4;

struct Problem {
  const Dataset* data;
  int classes;
  double inverse_c;
  std::vector<double> sample_weight;  // per class
  double tol;
  int iterations = 0;
  bool converged = false;
  std::vector<std::vector<double>> chunk_gradient;
  std::vector<double> chunk_loss;
};

// Loss and gradient of rows [begin, end) at parameters x, accumulated into g (zeroed by the caller).
double chunk_loss_and_gradient(const Problem& p, const double* x, std::size_t begin, std::size_t end, double* g) {
  const Dataset& d = *p.data;
  const int k = p.classes;
  const double* w = x;
  const double* b = x + d.dim * k;
  double* gb = g + d.dim * k;
  double loss = 0.0;
  std::vector<double> z(k);
  for (std::size_t i = begin; i < end; ++i) {
    std::copy(b, b + k, z.begin());
    for (std::size_t e = d.row_start[i]; e < d.row_start[i + 1]; ++e) {
      const double v = d.value[e];
      const double* wj = w + static_cast<std::size_t>(d.index[e]) * k;
      for (int c = 0; c < k; ++c) z[c] += v * wj[c];
    }
    const double zmax = *std::max_element(z.begin(), z.end());
    double sum = 0.0;
    for (int c = 0; c < k; ++c) sum += std::exp(z[c] - zmax);
    const double log_sum = zmax + std::log(sum);
    const int y = d.label[i];
    const double sw = p.sample_weight[y];
    loss += sw * (log_sum - z[y]);
    for (int c = 0; c < k; ++c) z[c] = sw * (std::exp(z[c] - log_sum) - (c == y ? 1.0 : 0.0));
    for (std::size_t e = d.row_start[i]; e < d.row_start[i + 1]; ++e) {
      const double v = d.value[e];
      double* gj = g + static_cast<std::size_t>(d.index[e]) * k;
      for (int c = 0; c < k; ++c) gj[c] += v * z[c];
    }
    for (int c = 0; c < k; ++c) gb[c] += z[c];
  }
  return loss;
}

// Loss and gradient of the objective at `x` = [W (dim x classes, feature-major), b (classes)].
lbfgsfloatval_t evaluate(void* instance, const lbfgsfloatval_t* x, lbfgsfloatval_t* g, const int n,
                         const lbfgsfloatval_t) {
  auto& p = *static_cast<Problem*>(instance);
  const Dataset& d = *p.data;
  const std::size_t rows = d.rows();
  auto run_chunk = [&](std::size_t c) {
    std::vector<double>& cg = p.chunk_gradient[c];
    std::fill(cg.begin(), cg.end(), 0.0);
    p.chunk_loss[c] = chunk_loss_and_gradient(p, x, rows * c / kChunks, rows * (c + 1) / kChunks, cg.data());
  };
  const std::size_t threads = std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, kChunks);
  std::vector<std::thread> workers;
  for (std::size_t t = 1; t < threads; ++t)
    workers.emplace_back([&, t] {
      for (std::size_t c = t; c < kChunks; c += threads) run_chunk(c);
    });
  for (std::size_t c = 0; c < kChunks; c += threads) run_chunk(c);
  for (auto& worker : workers) worker.join();

  double loss = 0.0;
  std::fill(g, g + n, 0.0);
  for (std::size_t c = 0; c < kChunks; ++c) {
    loss += p.chunk_loss[c];
    const double* cg = p.chunk_gradient[c].data();
    for (int j = 0; j < n; ++j) g[j] += cg[j];
  }
  const std::size_t weights = d.dim * p.classes;
  double penalty = 0.0;
  for (std::size_t j = 0; j < weights; ++j) {
    penalty += x[j] * x[j];
    g[j] += p.inverse_c * x[j];
  }
  return loss + 0.5 * p.inverse_c * penalty;
}

// scikit-learn stops L-BFGS when the largest gradient component falls to gtol; liblbfgs's own test is
// relative to ||x||, so the same criterion is applied here to reach the same optimum.
int progress(void* instance, const lbfgsfloatval_t*, const lbfgsfloatval_t* g, const lbfgsfloatval_t,
             const lbfgsfloatval_t, const lbfgsfloatval_t, const lbfgsfloatval_t, const int n, int k, int) {
  auto& p = *static_cast<Problem*>(instance);
  p.iterations = k;
  double gmax = 0.0;
  for (int i = 0; i < n; ++i) gmax = std::max(gmax, std::abs(g[i]));
  if (gmax <= p.tol) {
    p.converged = true;
    return 1;
  }
  return 0;
}

template <typename T>
void append_pod(std::string& out, const T& value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof value);
}

}  // namespace

void Dataset::add(const encoder::Features& x, int y) {
  for (std::size_t i = 0; i < x.index.size(); ++i) {
    if (x.index[i] >= dim) throw Error("feature index out of range for the dataset");
    index.push_back(x.index[i]);
    value.push_back(x.value[i]);
  }
  row_start.push_back(index.size());
  label.push_back(y);
}

Dataset Dataset::subset(std::span<const std::size_t> rows) const {
  Dataset out;
  out.dim = dim;
  out.row_start.reserve(rows.size() + 1);
  out.label.reserve(rows.size());
  for (const std::size_t r : rows) {
    out.index.insert(out.index.end(), index.begin() + static_cast<std::ptrdiff_t>(row_start[r]),
                     index.begin() + static_cast<std::ptrdiff_t>(row_start[r + 1]));
    out.value.insert(out.value.end(), value.begin() + static_cast<std::ptrdiff_t>(row_start[r]),
                     value.begin() + static_cast<std::ptrdiff_t>(row_start[r + 1]));
    out.row_start.push_back(out.index.size());
    out.label.push_back(label[r]);
  }
  return out;
}

LogisticRegression LogisticRegression::fit(const Dataset& data, int classes, const FitOptions& options,
                                           FitReport* report) {
  if (classes < 2) throw Error("training needs at least two labels");
  if (data.rows() == 0) throw Error("training needs at least one example");
  if (!(options.C > 0)) throw Error("C must be positive");
  if (options.max_iter < 1) throw Error("max_iter must be at least 1");
  const int n = static_cast<int>(data.dim * classes + classes);
  Problem problem{&data, classes, 1.0 / options.C, std::vector<double>(classes, 1.0), options.tol, 0, false,
                  std::vector<std::vector<double>>(kChunks, std::vector<double>(n)), std::vector<double>(kChunks)};
  if (options.balanced) {
    std::vector<double> counts(classes, 0.0);
    for (int y : data.label) counts[y] += 1.0;
    for (int c = 0; c < classes; ++c)
      problem.sample_weight[c] = counts[c] > 0 ? static_cast<double>(data.rows()) / (classes * counts[c]) : 0.0;
  }
  lbfgsfloatval_t* x = lbfgs_malloc(n);
  if (x == nullptr) throw Error("out of memory for the model parameters");
  std::fill(x, x + n, 0.0);
  if (const LogisticRegression* start = options.warm_start) {
    if (start->classes_ != classes || start->dim_ != data.dim) {
      lbfgs_free(x);
      throw Error("warm start head has another shape");
    }
    std::copy(start->weights_.begin(), start->weights_.end(), x);
    std::copy(start->intercepts_.begin(), start->intercepts_.end(), x + data.dim * classes);
  }
  lbfgs_parameter_t param;
  lbfgs_parameter_init(&param);
  param.m = 10;               // scipy's L-BFGS-B default history, as scikit-learn uses
  param.max_iterations = options.max_iter;
  param.epsilon = 1e-12;      // convergence is decided in progress()
  param.max_linesearch = 50;  // scikit-learn's maxls
  lbfgsfloatval_t fx = 0;
  const int status = lbfgs(n, x, &fx, evaluate, progress, &problem, &param);
  // A stop requested by progress() (convergence) or the iteration cap is a normal end; a line search that
  // cannot improve further means the objective is at its floating-point optimum.
  if (status < 0 && status != LBFGSERR_MAXIMUMITERATION && status != LBFGSERR_ROUNDING_ERROR &&
      status != LBFGSERR_MAXIMUMLINESEARCH && status != LBFGSERR_MINIMUMSTEP && status != LBFGSERR_CANCELED) {
    lbfgs_free(x);
    throw Error("L-BFGS failed (liblbfgs status " + std::to_string(status) + ")");
  }
  LogisticRegression model;
  model.classes_ = classes;
  model.dim_ = data.dim;
  model.weights_.assign(x, x + data.dim * classes);
  model.intercepts_.assign(x + data.dim * classes, x + n);
  lbfgs_free(x);
  if (report != nullptr) {
    report->iterations = problem.iterations;
    report->converged = problem.converged || status == LBFGS_SUCCESS || status == LBFGS_STOP ||
                        status == LBFGS_ALREADY_MINIMIZED;
    report->loss = fx;
  }
  return model;
}

void LogisticRegression::decision_function(const encoder::Features& x, std::span<float> scores) const {
  float* z = scores.data();
  std::copy(intercepts_.begin(), intercepts_.end(), z);
  for (std::size_t e = 0; e < x.index.size(); ++e) {
    const float v = x.value[e];
    const float* wj = weights_.data() + static_cast<std::size_t>(x.index[e]) * classes_;
    for (int c = 0; c < classes_; ++c) z[c] += v * wj[c];
  }
}

void LogisticRegression::apply_temperature(double temperature) {
  if (!(temperature > 0.0) || !std::isfinite(temperature)) throw Error("temperature must be positive");
  const auto scale = static_cast<float>(1.0 / temperature);
  for (float& w : weights_) w *= scale;
  for (float& b : intercepts_) b *= scale;
}

void LogisticRegression::predict_proba(const encoder::Features& x, std::span<float> proba) const {
  float* z = proba.data();
  decision_function(x, proba);
  const float zmax = *std::max_element(z, z + classes_);
  float sum = 0.0f;
  for (int c = 0; c < classes_; ++c) sum += (z[c] = std::exp(z[c] - zmax));
  for (int c = 0; c < classes_; ++c) z[c] /= sum;
}

std::string LogisticRegression::serialize() const {
  std::string out(kHeadMagic, sizeof kHeadMagic);
  append_pod(out, static_cast<std::uint32_t>(classes_));
  append_pod(out, static_cast<std::uint64_t>(dim_));
  out.append(reinterpret_cast<const char*>(intercepts_.data()), intercepts_.size() * sizeof(float));
  out.append(reinterpret_cast<const char*>(weights_.data()), weights_.size() * sizeof(float));
  return out;
}

std::optional<std::uint64_t> LogisticRegression::file_size(std::uint64_t classes, std::uint64_t features) {
  if (classes < 2 || classes > 100000 || features > (std::uint64_t{1} << 32)) return std::nullopt;
  return kHeadHeader + (features + 1) * classes * sizeof(float);
}

LogisticRegression LogisticRegression::load(std::string_view bytes, const std::string& name) {
  if (bytes.size() < kHeadHeader || std::memcmp(bytes.data(), kHeadMagic, sizeof kHeadMagic) != 0)
    throw Error(name + ": not a logclf head file");
  std::uint32_t classes = 0;
  std::uint64_t dim = 0;
  std::memcpy(&classes, bytes.data() + 8, 4);
  std::memcpy(&dim, bytes.data() + 12, 8);
  const auto expected = file_size(classes, dim);
  if (!expected) throw Error(name + ": head file has an implausible shape");
  if (bytes.size() != *expected) throw Error(name + ": head file is truncated or has the wrong size");
  LogisticRegression model;
  model.classes_ = static_cast<int>(classes);
  model.dim_ = dim;
  model.intercepts_.resize(classes);
  model.weights_.resize(dim * classes);
  std::memcpy(model.intercepts_.data(), bytes.data() + kHeadHeader, classes * sizeof(float));
  std::memcpy(model.weights_.data(), bytes.data() + kHeadHeader + classes * sizeof(float), dim * classes * sizeof(float));
  for (float v : model.weights_)
    if (!std::isfinite(v)) throw Error(name + ": head file holds a non-finite weight");
  for (float v : model.intercepts_)
    if (!std::isfinite(v)) throw Error(name + ": head file holds a non-finite weight");
  return model;
}

}  // namespace logclf::head
