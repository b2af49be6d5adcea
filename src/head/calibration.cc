#include "head/calibration.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "logclf/types.h"

namespace logclf::head {
namespace {

// Loss, first and second derivative of the summed log loss in beta = 1 / T. As a function of beta the loss
// is a log-sum-exp of linear functions minus a linear one: convex, so Newton's method with a bracket finds
// the minimum.
struct Derivatives {
  double loss = 0, first = 0, second = 0;
};

Derivatives derivatives(std::span<const float> logits, std::span<const int> labels, int classes, double beta) {
  Derivatives d;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const float* z = logits.data() + i * static_cast<std::size_t>(classes);
    double zmax = -std::numeric_limits<double>::infinity();
    for (int c = 0; c < classes; ++c) zmax = std::max(zmax, beta * z[c]);
    double sum = 0, mean = 0, square = 0;
    for (int c = 0; c < classes; ++c) {
      const double e = std::exp(beta * z[c] - zmax);
      sum += e;
      mean += e * z[c];
      square += e * z[c] * z[c];
    }
    mean /= sum;
    square /= sum;
    d.loss += zmax + std::log(sum) - beta * z[labels[i]];
    d.first += mean - z[labels[i]];
    d.second += std::max(0.0, square - mean * mean);
  }
  return d;
}

}  // namespace

double log_loss(std::span<const float> logits, std::span<const int> labels, int classes, double temperature) {
  if (labels.empty()) return 0.0;
  return derivatives(logits, labels, classes, 1.0 / temperature).loss / static_cast<double>(labels.size());
}

double fit_temperature(std::span<const float> logits, std::span<const int> labels, int classes) {
  if (classes < 2 || labels.empty()) return 1.0;
  if (logits.size() != labels.size() * static_cast<std::size_t>(classes))
    throw Error("temperature fit: logits and labels disagree in size");
  // beta in [1e-3, 1e3]: T from 0.001 (sharper by a thousandfold) to 1000 (nearly uniform). When every
  // held-out row is already right with a margin the loss keeps falling as beta grows; the cap stops there.
  double lo = 1e-3, hi = 1e3, beta = 1.0;
  for (int iteration = 0; iteration < 100; ++iteration) {
    const Derivatives d = derivatives(logits, labels, classes, beta);
    if (d.first > 0) hi = beta; else lo = beta;
    if (std::abs(d.first) <= 1e-9 * static_cast<double>(labels.size()) || hi / lo < 1 + 1e-9) break;
    double next = d.second > 0 ? beta - d.first / d.second : std::nan("");
    // A Newton step that leaves the bracket falls back to its geometric midpoint.
    if (!(next > lo && next < hi)) next = std::sqrt(lo * hi);
    beta = next;
  }
  return 1.0 / beta;
}

}  // namespace logclf::head
