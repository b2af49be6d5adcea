#include "logclf/classifier.h"

#include <algorithm>

#include "bundle/bundle.h"
#include "pipeline/parts.h"

namespace logclf {

Classifier::Classifier(std::shared_ptr<detail::ClassifierParts> parts) : parts_(std::move(parts)) {}

Classifier Classifier::load(const std::string& model_dir) { return Classifier(bundle::load_directory(model_dir)); }

Classifier Classifier::load_default() {
  // Parsed once; copies share the immutable parts until set_threshold() gives a copy its own.
  static const std::shared_ptr<detail::ClassifierParts> parts = bundle::load_embedded_default();
  return Classifier(parts);
}

Prediction Classifier::classify(std::string_view message, std::string_view source) const {
  const detail::ClassifierParts& p = *parts_;
  Prediction out;
  if (const auto rule = p.rules.match(message, source)) {
    const Rule& r = p.rules.rules()[*rule];
    out.label = r.label;
    out.stage = Stage::rule;
    out.rule = r.name;
    out.confidence = 1.0;
    return out;
  }
  thread_local encoder::Features features;
  p.encoder->encode(message, features);
  out.probabilities.resize(p.labels.size());
  p.head.predict_proba(features, out.probabilities);
  const auto best = std::max_element(out.probabilities.begin(), out.probabilities.end());
  out.confidence = *best;
  if (out.confidence < p.threshold) {
    out.label = kUncertainLabel;
    out.stage = Stage::uncertain;
  } else {
    out.label = p.labels[static_cast<std::size_t>(best - out.probabilities.begin())];
    out.stage = Stage::model;
  }
  return out;
}

std::vector<Prediction> Classifier::classify_batch(std::span<const LogLine> lines, bool with_distribution) const {
  std::vector<Prediction> out;
  out.reserve(lines.size());
  for (const LogLine& line : lines) {
    out.push_back(classify(line.message, line.source));
    if (!with_distribution) out.back().probabilities.clear();
  }
  return out;
}

const std::vector<std::string>& Classifier::labels() const { return parts_->labels; }
const RuleSet& Classifier::rules() const { return parts_->rules; }
double Classifier::threshold() const { return parts_->threshold; }
std::string_view Classifier::encoder_kind() const { return parts_->encoder->kind(); }

void Classifier::set_threshold(double threshold) {
  if (!(threshold >= 0.0 && threshold <= 1.0)) throw Error("threshold must be between 0 and 1");
  auto copy = std::make_shared<detail::ClassifierParts>(*parts_);
  copy->threshold = threshold;
  parts_ = std::move(copy);
}

std::string Classifier::metadata_json() const { return bundle::metadata_document(*parts_).dump(2); }

void Classifier::save(const std::string& model_dir) const { bundle::save_directory(*parts_, model_dir); }

}  // namespace logclf
