#include <algorithm>
#include <nlohmann/json.hpp>

#include "logclf/evaluation.h"

namespace logclf {

PipelineEvaluation evaluate(const Classifier& classifier, std::span<const LabeledLine> data, MessageCache* cache) {
  if (cache != nullptr && cache->mode() == CacheMode::off) cache = nullptr;
  PipelineEvaluation out;
  out.total = data.size();
  const auto& rules = classifier.rules().rules();
  for (const Rule& rule : rules) out.rules.push_back({rule.name, rule.label, 0, 0});
  std::vector<std::string> truth, predicted, model_truth, model_predicted;
  std::vector<ScoredPrediction> model_scored;
  truth.reserve(data.size());
  predicted.reserve(data.size());
  const auto& labels = classifier.labels();
  // In chunks through classify_batch, so that a batching encoder sees whole batches.
  constexpr std::size_t kChunk = 1024;
  std::vector<LogLine> chunk;
  for (std::size_t start = 0; start < data.size(); start += kChunk) {
    const std::size_t n = std::min(kChunk, data.size() - start);
    chunk.clear();
    for (std::size_t i = start; i < start + n; ++i) chunk.push_back({data[i].message, data[i].source});
    std::vector<Prediction> predictions =
        cache != nullptr ? classifier.classify_batch(chunk, *cache, true) : classifier.classify_batch(chunk, true);
    for (std::size_t k = 0; k < n; ++k) {
      const LabeledLine& row = data[start + k];
      Prediction& p = predictions[k];
      truth.push_back(row.label);
      switch (p.stage) {
        case Stage::rule: {
          ++out.by_rule;
          const auto it = std::find_if(out.rules.begin(), out.rules.end(),
                                       [&](const RuleEvaluation& r) { return r.name == p.rule; });
          ++it->matched;
          it->correct += p.label == row.label;
          break;
        }
        case Stage::model: ++out.by_model; break;
        case Stage::uncertain: ++out.uncertain; break;
      }
      if (p.stage != Stage::rule) {
        const auto best = std::max_element(p.probabilities.begin(), p.probabilities.end());
        model_truth.push_back(row.label);
        model_predicted.push_back(labels[static_cast<std::size_t>(best - p.probabilities.begin())]);
        model_scored.push_back({*best, model_predicted.back() == row.label});
      }
      predicted.push_back(std::move(p.label));
    }
  }
  if (cache != nullptr) {
    out.cache_mode = cache->mode();
    out.cache = cache->stats();
  }
  out.hybrid = ClassificationReport::compute(truth, predicted);
  if (!model_truth.empty()) {
    out.model = ClassificationReport::compute(model_truth, model_predicted);
    out.model_calibration = CalibrationReport::compute(model_scored);
  }
  return out;
}

std::string PipelineEvaluation::json() const {
  nlohmann::json doc;
  doc["total"] = total;
  doc["stages"] = {{"rule", by_rule}, {"model", by_model}, {"uncertain", uncertain}};
  doc["rule_coverage"] = total ? static_cast<double>(by_rule) / static_cast<double>(total) : 0.0;
  doc["hybrid"] = nlohmann::json::parse(hybrid.json());
  nlohmann::json rule_list = nlohmann::json::array();
  for (const RuleEvaluation& r : rules) {
    rule_list.push_back({{"name", r.name},
                         {"label", r.label},
                         {"matched", r.matched},
                         {"correct", r.correct},
                         {"precision", r.matched ? nlohmann::json(static_cast<double>(r.correct) / static_cast<double>(r.matched))
                                                 : nlohmann::json(nullptr)}});
  }
  doc["rules"] = std::move(rule_list);
  doc["model"] = model ? nlohmann::json::parse(model->json()) : nlohmann::json(nullptr);
  doc["model_calibration"] =
      model_calibration ? nlohmann::json::parse(model_calibration->json()) : nlohmann::json(nullptr);
  doc["cache"] = cache_mode ? nlohmann::json{{"mode", to_string(*cache_mode)},
                                             {"lookups", cache.lookups},
                                             {"hits", cache.hits},
                                             {"hit_rate", cache.hit_rate()}}
                            : nlohmann::json{{"mode", "off"}};
  return doc.dump(2);
}

}  // namespace logclf
