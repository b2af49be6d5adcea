#include "logclf/train.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <map>
#include <set>

#include "encoder/e5/e5_encoder.h"
#include "encoder/lexical.h"
#include "head/logreg.h"
#include "train/rule_check.h"
#include "train/selection.h"
#include "pipeline/parts.h"
#include "util/hash.h"
#include "util/random.h"

namespace logclf {
namespace {

std::string utc_now() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

// Stratified split: every label keeps the same share in both parts (rounded per label); a label with a
// single example stays in the training part so the head can learn it.
void stratified_split(const std::vector<int>& labels, int classes, double test_size, std::uint64_t seed,
                      std::vector<std::size_t>& train, std::vector<std::size_t>& test) {
  std::vector<std::vector<std::size_t>> by_class(classes);
  for (std::size_t i = 0; i < labels.size(); ++i) by_class[labels[i]].push_back(i);
  util::Random random(seed);
  for (auto& members : by_class) {
    random.shuffle(members);
    auto n_test = static_cast<std::size_t>(std::llround(test_size * static_cast<double>(members.size())));
    if (n_test >= members.size()) n_test = members.size() - 1;
    test.insert(test.end(), members.begin(), members.begin() + static_cast<std::ptrdiff_t>(n_test));
    train.insert(train.end(), members.begin() + static_cast<std::ptrdiff_t>(n_test), members.end());
  }
  std::sort(train.begin(), train.end());
  std::sort(test.begin(), test.end());
}

// Identifies the training rows independently of the file format they came in.
std::string checksum(std::span<const LabeledLine> data) {
  util::Xxh128 digest;
  for (const LabeledLine& row : data) {
    for (const std::string* field : {&row.message, &row.source, &row.label}) {
      digest.update(*field);
      digest.update("\x1f");
    }
  }
  return digest.hex();
}

}  // namespace

TrainResult train(std::span<const LabeledLine> data, const TrainOptions& options) {
  if (!(options.test_size >= 0.0 && options.test_size < 1.0)) throw Error("test size must be in [0, 1)");
  if (!(options.threshold >= 0.0 && options.threshold <= 1.0)) throw Error("threshold must be between 0 and 1");
  TrainResult result;
  result.rows = data.size();
  std::vector<std::size_t> included, usable;
  std::set<std::string_view> excluded(options.exclude_sources.begin(), options.exclude_sources.end());
  for (std::size_t i = 0; i < data.size(); ++i) {
    if (data[i].label.empty()) throw Error("row " + std::to_string(i + 1) + " has an empty label");
    if (excluded.count(data[i].source) != 0) {
      ++result.rows_excluded;
    } else {
      included.push_back(i);
    }
  }
  const RuleSet rules = rule_check::fit(data, included, options, result);
  for (const std::size_t i : included) {
    if (!options.all_rows && rules.match(data[i].message, data[i].source)) {
      ++result.rows_rule_matched;
    } else {
      usable.push_back(i);
    }
  }
  if (usable.empty())
    throw Error("no rows left to fit the head on (" + std::to_string(result.rows_rule_matched) +
                " matched a rule, " + std::to_string(result.rows_excluded) + " were excluded); try --all-rows");

  std::vector<std::string> labels;
  for (std::size_t i : usable) labels.push_back(data[i].label);
  std::sort(labels.begin(), labels.end());
  labels.erase(std::unique(labels.begin(), labels.end()), labels.end());
  if (labels.size() < 2)
    throw Error("the head needs at least two labels among the rows it is fitted on; found only '" + labels[0] + "'");
  const int classes = static_cast<int>(labels.size());
  std::vector<int> y(usable.size());
  for (std::size_t r = 0; r < usable.size(); ++r)
    y[r] = static_cast<int>(std::lower_bound(labels.begin(), labels.end(), data[usable[r]].label) - labels.begin());

  std::vector<std::size_t> train_rows, test_rows;
  if (options.test_size > 0.0) {
    stratified_split(y, classes, options.test_size, options.seed, train_rows, test_rows);
  } else {
    train_rows.resize(usable.size());
    for (std::size_t r = 0; r < usable.size(); ++r) train_rows[r] = r;
  }
  result.rows_train = train_rows.size();
  result.rows_test = test_rows.size();

  head::FitOptions fit_options;
  fit_options.C = options.C.value_or(1.0);
  fit_options.max_iter = options.max_iter;
  fit_options.balanced = options.class_weight == ClassWeight::balanced;
  const std::string kind = options.encoder.kind.empty() ? std::string(kLexicalEncoder) : options.encoder.kind;
  if (kind != kLexicalEncoder && kind != kE5Encoder)
    throw Error("unknown encoder '" + kind + "' (choose " + std::string(kLexicalEncoder) + " or " +
                std::string(kE5Encoder) + ")");
  // A pretrained encoder does not depend on the rows: every usable message is embedded once, in batches.
  std::shared_ptr<encoder::e5::E5Encoder> pretrained;
  std::vector<encoder::Features> embedded;
  if (kind == kE5Encoder) {
    pretrained = encoder::e5::E5Encoder::open(options.encoder);
    std::vector<std::string_view> texts;
    texts.reserve(usable.size());
    for (std::size_t i : usable) texts.push_back(data[i].message);
    pretrained->encode_batch(texts, embedded);
  }

  struct Fitted {
    std::shared_ptr<const encoder::Encoder> encoder;
    std::string encoder_file;
    nlohmann::json encoder_params;
    head::LogisticRegression head;
    head::FitReport report;
    model_selection::Selection selection;
  };
  model_selection::SelectionOptions selection_options;
  selection_options.C = options.C;
  selection_options.grid = options.C_grid;
  selection_options.calibrate = options.calibrate;
  selection_options.folds = options.cv_folds;
  selection_options.seed = options.seed;
  // `chosen`: C and temperature already selected (the refit on every row keeps those of the first fit).
  auto fit = [&](const std::vector<std::size_t>& rows, const model_selection::Selection* chosen) {
    Fitted f;
    head::Dataset dataset;
    if (pretrained) {
      f.encoder = pretrained;
      f.encoder_params = pretrained->params();
      dataset.dim = pretrained->dim();
      for (std::size_t r : rows) dataset.add(embedded[r], y[r]);
    } else {
      std::vector<std::string_view> texts;
      texts.reserve(rows.size());
      for (std::size_t r : rows) texts.push_back(data[usable[r]].message);
      auto lexical = std::make_shared<encoder::LexicalEncoder>(encoder::LexicalEncoder::fit(texts, {}));
      if (lexical->dim() == 0)
        throw Error("the " + std::to_string(rows.size()) + " training messages share no word or character "
                    "n-gram (each feature must appear in at least 2 messages); add more examples");
      dataset.dim = lexical->dim();
      encoder::Features features;
      for (std::size_t r : rows) {
        lexical->encode(data[usable[r]].message, features);
        dataset.add(features, y[r]);
      }
      f.encoder_file = lexical->vocabulary();
      f.encoder_params = lexical->params();
      f.encoder = std::move(lexical);
    }
    f.selection = chosen ? *chosen : model_selection::select_head(dataset, classes, fit_options, selection_options);
    head::FitOptions final_options = fit_options;
    final_options.C = f.selection.C;
    f.head = head::LogisticRegression::fit(dataset, classes, final_options, &f.report);
    if (f.selection.temperature != 1.0) f.head.apply_temperature(f.selection.temperature);
    return f;
  };

  Fitted fitted = fit(train_rows, nullptr);
  if (!test_rows.empty()) {
    // Held-out rows are usable rows: with --all-rows some match a rule, and the pipeline answers those by it.
    std::vector<std::string> truth, predicted, pipeline;
    std::vector<ScoredPrediction> scored;
    std::vector<float> proba(labels.size());
    encoder::Features features;
    for (std::size_t r : test_rows) {
      const LabeledLine& row = data[usable[r]];
      if (pretrained) {
        fitted.head.predict_proba(embedded[r], proba);
      } else {
        fitted.encoder->encode(row.message, features);
        fitted.head.predict_proba(features, proba);
      }
      const auto best = std::max_element(proba.begin(), proba.end());
      const std::string& label = labels[static_cast<std::size_t>(best - proba.begin())];
      truth.push_back(labels[y[r]]);
      predicted.push_back(label);
      scored.push_back({*best, label == truth.back()});
      if (const auto rule = rules.match(row.message, row.source)) {
        pipeline.push_back(rules.rules()[*rule].label);
        ++result.held_out_by_rule;
      } else if (*best < options.threshold) {
        pipeline.push_back(std::string(kUncertainLabel));
        ++result.held_out_uncertain;
      } else {
        pipeline.push_back(label);
      }
    }
    result.held_out = ClassificationReport::compute(truth, predicted);
    result.held_out_pipeline = ClassificationReport::compute(truth, pipeline);
    result.held_out_calibration = CalibrationReport::compute(scored);
    if (options.refit) {
      std::vector<std::size_t> all(usable.size());
      for (std::size_t r = 0; r < all.size(); ++r) all[r] = r;
      fitted = fit(all, &fitted.selection);
      train_rows = std::move(all);
    }
  }
  result.iterations = fitted.report.iterations;
  result.converged = fitted.report.converged;
  const head::FitReport& report = fitted.report;
  const model_selection::Selection& selection = fitted.selection;
  result.C = selection.C;
  result.temperature = selection.temperature;
  result.cv_folds = selection.folds;
  result.selection_note = selection.note;
  nlohmann::json candidates = nlohmann::json::array();
  result.candidates = selection.candidates;
  for (const CvCandidate& c : selection.candidates) {
    candidates.push_back({{"C", c.C}, {"log_loss", c.log_loss}, {"temperature", c.temperature}, {"accuracy", c.accuracy}});
  }

  std::map<std::string, std::size_t> train_counts;
  for (std::size_t r : train_rows) ++train_counts[labels[y[r]]];
  nlohmann::json training = {
      {"data", options.data_name},
      {"data_checksum", checksum(data)},
      {"created", utc_now()},
      {"logclf_version", std::string(version())},
      {"rows", {{"total", result.rows}, {"excluded", result.rows_excluded},
                {"rule_matched_skipped", result.rows_rule_matched}, {"train", result.rows_train},
                {"held_out", result.rows_test}, {"final_fit", train_rows.size()}}},
      {"train_label_counts", train_counts},
      {"options", {{"test_size", options.test_size}, {"seed", options.seed}, {"all_rows", options.all_rows},
                   {"exclude_sources", options.exclude_sources}, {"refit", options.refit},
                   {"C", options.C ? nlohmann::json(*options.C) : nlohmann::json("auto")},
                   {"C_grid", options.C_grid}, {"cv_folds", options.cv_folds}, {"calibrate", options.calibrate},
                   {"max_iter", options.max_iter},
                   {"class_weight", options.class_weight == ClassWeight::balanced ? "balanced" : "none"}}},
      {"iterations", report.iterations},
      {"converged", report.converged},
      {"head", {{"C", selection.C}, {"temperature", selection.temperature}, {"cv_folds", selection.folds},
                {"cv_candidates", std::move(candidates)}}},
  };
  if (!selection.note.empty()) training["head"]["note"] = selection.note;
  nlohmann::json rule_list = nlohmann::json::array();
  for (const RuleReport& r : result.rules)
    rule_list.push_back({{"name", r.name}, {"label", r.label}, {"matched", r.matched}, {"correct", r.correct},
                         {"precision", r.matched ? nlohmann::json(static_cast<double>(r.correct) / static_cast<double>(r.matched))
                                                 : nlohmann::json(nullptr)},
                         {"status", r.status}});
  training["rules"] = std::move(rule_list);
  training["options"]["rules"] = {{"given", options.rules_given}, {"allow_new_labels", options.allow_new_labels},
                                  {"min_rule_precision", options.min_rule_precision},
                                  {"min_rule_matches", options.min_rule_matches},
                                  {"keep_all_rules", options.keep_all_rules}, {"mine_rules", options.mine_rules},
                                  {"use_mined_rules", options.use_mined_rules}};
  if (result.mined) training["mined_rules"] = {{"rules", result.mined->size()}, {"rows", result.mined_rows}};
  if (result.held_out) {
    training["held_out_metrics"] = nlohmann::json::parse(result.held_out->json());
    training["held_out_pipeline"] = nlohmann::json::parse(result.held_out_pipeline->json());
    training["held_out_pipeline"]["threshold"] = options.threshold;
    training["held_out_pipeline"]["uncertain"] = result.held_out_uncertain;
    training["held_out_calibration"] = nlohmann::json::parse(result.held_out_calibration->json());
  }

  auto parts = std::make_shared<detail::ClassifierParts>();
  parts->rules = rules;
  parts->encoder_file = std::move(fitted.encoder_file);
  parts->metadata = {{"encoder", {{"kind", std::string(fitted.encoder->kind())}, {"params", fitted.encoder_params}}},
                     {"training", std::move(training)}};
  parts->encoder = std::move(fitted.encoder);
  parts->head = std::move(fitted.head);
  parts->labels = std::move(labels);
  parts->threshold = options.threshold;
  result.classifier = detail::ClassifierAccess::make(std::move(parts));
  return result;
}

}  // namespace logclf
