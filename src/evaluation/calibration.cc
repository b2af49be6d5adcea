// CalibrationReport: reliability bins and the expected calibration error.
#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include "logclf/evaluation.h"
#include "logclf/types.h"

namespace logclf {

CalibrationReport CalibrationReport::compute(std::span<const ScoredPrediction> predictions, int bins) {
  if (bins < 1) throw Error("calibration needs at least one bin");
  CalibrationReport report;
  report.total_ = predictions.size();
  report.bins_.resize(static_cast<std::size_t>(bins));
  std::vector<double> confidence_sum(report.bins_.size()), correct(report.bins_.size());
  for (std::size_t b = 0; b < report.bins_.size(); ++b) {
    report.bins_[b].low = static_cast<double>(b) / bins;
    report.bins_[b].high = static_cast<double>(b + 1) / bins;
  }
  for (const ScoredPrediction& p : predictions) {
    const double c = std::clamp(p.confidence, 0.0, 1.0);
    const auto b = std::min(report.bins_.size() - 1, static_cast<std::size_t>(c * bins));
    ++report.bins_[b].count;
    confidence_sum[b] += c;
    correct[b] += p.correct ? 1.0 : 0.0;
  }
  for (std::size_t b = 0; b < report.bins_.size(); ++b) {
    CalibrationBin& bin = report.bins_[b];
    if (bin.count == 0) {
      bin.confidence = bin.accuracy = std::numeric_limits<double>::quiet_NaN();
      continue;
    }
    bin.confidence = confidence_sum[b] / static_cast<double>(bin.count);
    bin.accuracy = correct[b] / static_cast<double>(bin.count);
    const double gap = std::abs(bin.accuracy - bin.confidence);
    report.ece_ += gap * static_cast<double>(bin.count) / static_cast<double>(report.total_);
    report.max_gap_ = std::max(report.max_gap_, gap);
  }
  return report;
}

std::string CalibrationReport::text() const {
  std::string out = fmt::format("{:>13}  {:>7}  {:>10}  {:>8}\n", "confidence", "lines", "mean conf.", "accuracy");
  for (const CalibrationBin& b : bins_) {
    if (b.count == 0) continue;
    out += fmt::format("  [{:.1f}, {:.1f}{}  {:>7}  {:>10.4f}  {:>8.4f}\n", b.low, b.high, b.high >= 1.0 ? "]" : ")",
                       b.count, b.confidence, b.accuracy);
  }
  out += fmt::format("expected calibration error {:.4f} (largest bin gap {:.4f}) over {} lines\n", ece_, max_gap_,
                     total_);
  return out;
}

std::string CalibrationReport::json() const {
  nlohmann::json list = nlohmann::json::array();
  for (const CalibrationBin& b : bins_) {
    list.push_back({{"low", b.low},
                    {"high", b.high},
                    {"count", b.count},
                    {"confidence", b.count ? nlohmann::json(b.confidence) : nlohmann::json(nullptr)},
                    {"accuracy", b.count ? nlohmann::json(b.accuracy) : nlohmann::json(nullptr)}});
  }
  return nlohmann::json{{"ece", ece_}, {"max_gap", max_gap_}, {"total", total_}, {"bins", std::move(list)}}.dump();
}

}  // namespace logclf
