// ClassificationReport: confusion matrix and per-label scores, printed in scikit-learn's layout.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "logclf/evaluation.h"
#include "logclf/types.h"

namespace logclf {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Undefined (NaN) scores count as 0, as scikit-learn does with zero_division=0.
double or_zero(double value) { return std::isnan(value) ? 0.0 : value; }

// Python's len() of a str: UTF-8 code points, i.e. bytes that are not continuation bytes.
std::size_t code_points(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(
      text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// Python's "{:>{width}s}": right-aligned, never truncated.
std::string pad_left(std::string_view text, std::size_t width) {
  const std::size_t length = code_points(text);
  std::string out(length < width ? width - length : 0, ' ');
  out += text;
  return out;
}

std::string pad_right(std::string_view text, std::size_t width) {
  std::string out(text);
  const std::size_t length = code_points(text);
  if (length < width) out.append(width - length, ' ');
  return out;
}

// Python's " {:>9.{digits}f}" (printf rounds the exact binary value like Python does).
std::string fixed_cell(double value, int digits) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", digits, or_zero(value));
  return " " + pad_left(buffer, 9);
}

std::string count_cell(std::size_t value) { return " " + pad_left(std::to_string(value), 9); }

std::string score_row(const std::string& name, const LabelScores& s, std::size_t width, int digits) {
  return pad_left(name, width) + " " + fixed_cell(s.precision, digits) + fixed_cell(s.recall, digits) +
         fixed_cell(s.f1, digits) + count_cell(s.support) + "\n";
}

nlohmann::json score_json(double value) {
  return std::isnan(value) ? nlohmann::json(nullptr) : nlohmann::json(value);
}

nlohmann::json scores_json(const LabelScores& s) {
  return {{"precision", score_json(s.precision)},
          {"recall", score_json(s.recall)},
          {"f1", score_json(s.f1)},
          {"support", s.support}};
}

}  // namespace

ClassificationReport ClassificationReport::compute(std::span<const std::string> truth,
                                                   std::span<const std::string> predicted) {
  if (truth.size() != predicted.size()) {
    throw Error("evaluation: " + std::to_string(truth.size()) + " true labels but " +
                std::to_string(predicted.size()) + " predictions");
  }
  if (truth.empty()) throw Error("no examples to evaluate");

  ClassificationReport report;
  report.labels_.assign(truth.begin(), truth.end());
  report.labels_.insert(report.labels_.end(), predicted.begin(), predicted.end());
  std::sort(report.labels_.begin(), report.labels_.end());
  report.labels_.erase(std::unique(report.labels_.begin(), report.labels_.end()), report.labels_.end());

  const std::size_t n = report.labels_.size();
  const auto index = [&](const std::string& label) {
    return static_cast<std::size_t>(std::lower_bound(report.labels_.begin(), report.labels_.end(), label) -
                                    report.labels_.begin());
  };
  report.confusion_.assign(n, std::vector<std::size_t>(n, 0));
  for (std::size_t i = 0; i < truth.size(); ++i) ++report.confusion_[index(truth[i])][index(predicted[i])];

  report.total_ = truth.size();
  std::size_t correct = 0;
  report.macro_ = {.label = "macro avg", .support = report.total_};
  report.weighted_ = {.label = "weighted avg", .support = report.total_};
  for (std::size_t t = 0; t < n; ++t) {
    std::size_t support = 0, predictions = 0;
    for (std::size_t k = 0; k < n; ++k) {
      support += report.confusion_[t][k];
      predictions += report.confusion_[k][t];
    }
    const double tp = static_cast<double>(report.confusion_[t][t]);
    correct += report.confusion_[t][t];

    LabelScores s{.label = report.labels_[t], .support = support};
    s.precision = predictions == 0 ? kNaN : tp / static_cast<double>(predictions);
    s.recall = support == 0 ? kNaN : tp / static_cast<double>(support);
    if (std::isnan(s.precision) || std::isnan(s.recall)) {
      s.f1 = kNaN;
    } else {
      s.f1 = s.precision + s.recall == 0.0 ? 0.0 : 2.0 * s.precision * s.recall / (s.precision + s.recall);
    }

    const double weight = static_cast<double>(support);
    report.macro_.precision += or_zero(s.precision);
    report.macro_.recall += or_zero(s.recall);
    report.macro_.f1 += or_zero(s.f1);
    report.weighted_.precision += weight * or_zero(s.precision);
    report.weighted_.recall += weight * or_zero(s.recall);
    report.weighted_.f1 += weight * or_zero(s.f1);
    report.per_label_.push_back(std::move(s));
  }
  const double label_count = static_cast<double>(n), total = static_cast<double>(report.total_);
  for (double* sum : {&report.macro_.precision, &report.macro_.recall, &report.macro_.f1})
    *sum /= label_count;
  for (double* sum : {&report.weighted_.precision, &report.weighted_.recall, &report.weighted_.f1})
    *sum /= total;
  report.accuracy_ = static_cast<double>(correct) / total;
  return report;
}

// Mirrors sklearn.metrics.classification_report (1.2) string building, including its spacing quirks:
// every numeric column is " " + a 9-wide field, after a separator space following the name column.
std::string ClassificationReport::text(int digits) const {
  if (digits < 0) throw Error("classification report: digits must not be negative");
  std::size_t width = std::max<std::size_t>(code_points("weighted avg"), static_cast<std::size_t>(digits));
  for (const std::string& label : labels_) width = std::max(width, code_points(label));

  std::string out = pad_left("", width) + " ";
  for (const char* header : {"precision", "recall", "f1-score", "support"}) out += " " + pad_left(header, 9);
  out += "\n\n";
  for (const LabelScores& s : per_label_) out += score_row(s.label, s, width, digits);
  out += "\n";
  // The accuracy row leaves precision and recall blank: Python formats "" with "{:>9.{digits}}".
  out += pad_left("accuracy", width) + " " + " " + std::string(9, ' ') + " " + std::string(9, ' ') +
         fixed_cell(accuracy_, digits) + count_cell(total_) + "\n";
  out += score_row(macro_.label, macro_, width, digits);
  out += score_row(weighted_.label, weighted_, width, digits);
  return out;
}

std::string ClassificationReport::confusion_text() const {
  const std::string corner = "true \\ predicted";
  std::size_t row_width = code_points(corner);
  for (const std::string& label : labels_) row_width = std::max(row_width, code_points(label));

  // Each column is as wide as its label or its widest count, whichever is wider.
  std::vector<std::size_t> column_width(labels_.size());
  for (std::size_t p = 0; p < labels_.size(); ++p) {
    column_width[p] = code_points(labels_[p]);
    for (const auto& row : confusion_)
      column_width[p] = std::max(column_width[p], std::to_string(row[p]).size());
  }

  std::string out = pad_right(corner, row_width);
  for (std::size_t p = 0; p < labels_.size(); ++p) out += "  " + pad_left(labels_[p], column_width[p]);
  out += "\n";
  for (std::size_t t = 0; t < labels_.size(); ++t) {
    out += pad_right(labels_[t], row_width);
    for (std::size_t p = 0; p < labels_.size(); ++p) {
      out += "  " + pad_left(std::to_string(confusion_[t][p]), column_width[p]);
    }
    out += "\n";
  }
  return out;
}

std::string ClassificationReport::json() const {
  nlohmann::json per_label = nlohmann::json::object();
  for (const LabelScores& s : per_label_) per_label[s.label] = scores_json(s);
  const nlohmann::json out = {{"labels", labels_},
                              {"per_label", per_label},
                              {"accuracy", accuracy_},
                              {"macro_avg", scores_json(macro_)},
                              {"weighted_avg", scores_json(weighted_)},
                              {"confusion", confusion_},
                              {"total", total_}};
  // Labels come from user data; replace invalid UTF-8 rather than failing the whole report.
  return out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace logclf
