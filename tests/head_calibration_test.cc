// Temperature scaling, the reliability report and the choice of C by cross-validation, against
// hand-computed values.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "head/calibration.h"
#include "head/logreg.h"
#include "logclf/evaluation.h"
#include "logclf/types.h"
#include "train/selection.h"
#include "util/random.h"

namespace logclf {
namespace {

TEST(Temperature, HandComputedOptimum) {
  // Two classes, every row with logits (2, 0): four rows of class 0, one of class 1. The best temperature
  // makes softmax(2 / T, 0) = 0.8 for class 0, i.e. 2 / T = ln(0.8 / 0.2), T = 2 / ln 4.
  std::vector<float> logits;
  std::vector<int> labels;
  for (int i = 0; i < 5; ++i) {
    logits.insert(logits.end(), {2.0f, 0.0f});
    labels.push_back(i < 4 ? 0 : 1);
  }
  const double t = head::fit_temperature(logits, labels, 2);
  EXPECT_NEAR(t, 2.0 / std::log(4.0), 1e-6);
  // Its log loss is the entropy of (0.8, 0.2); at T = 1 it is -(4 ln s(2) + ln(1 - s(2))) / 5.
  EXPECT_NEAR(head::log_loss(logits, labels, 2, t), -(0.8 * std::log(0.8) + 0.2 * std::log(0.2)), 1e-9);
  const double s2 = 1.0 / (1.0 + std::exp(-2.0));
  EXPECT_NEAR(head::log_loss(logits, labels, 2), -(4 * std::log(s2) + std::log(1 - s2)) / 5, 1e-6);
}

TEST(Temperature, OverconfidentLogitsAreSoftenedAndUnderconfidentSharpened) {
  // Rows right 90% of the time: logits stating 99.9% get T > 1, logits stating 60% get T < 1.
  for (const float margin : {7.0f, 0.4f}) {
    std::vector<float> logits;
    std::vector<int> labels;
    for (int i = 0; i < 100; ++i) {
      logits.insert(logits.end(), {margin, 0.0f, 0.0f});
      labels.push_back(i % 10 == 0 ? 1 : 0);
    }
    const double t = head::fit_temperature(logits, labels, 3);
    const double p = std::exp(margin / t) / (std::exp(margin / t) + 2.0);
    // At the optimum the stated probability of the top class equals its frequency.
    EXPECT_NEAR(p, 0.9, 1e-4) << "margin " << margin << " T " << t;
    EXPECT_EQ(t > 1.0, margin > 3.0f);
  }
}

TEST(Temperature, FoldsIntoTheHead) {
  head::Dataset data;
  data.dim = 2;
  data.add({{0, 1}, {1.0f, 0.2f}}, 0);
  data.add({{0, 1}, {-0.5f, 1.0f}}, 1);
  data.add({{0, 1}, {0.1f, -1.0f}}, 2);
  head::LogisticRegression model = head::LogisticRegression::fit(data, 3, {});
  const encoder::Features x{{0, 1}, {0.3f, 0.7f}};
  std::vector<float> z(3), before(3), after(3);
  model.decision_function(x, z);
  model.apply_temperature(2.5);
  model.predict_proba(x, after);
  double sum = 0;
  for (int c = 0; c < 3; ++c) sum += std::exp(z[c] / 2.5);
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(after[c], std::exp(z[c] / 2.5) / sum, 1e-6);
  EXPECT_THROW(model.apply_temperature(0.0), Error);
}

TEST(CalibrationReport, HandComputedBinsAndError) {
  // Bin [0.9, 1.0]: 0.95 and 1.0, both right: confidence 0.975, accuracy 1, gap 0.025.
  // Bin [0.6, 0.7): 0.6 and 0.65, one right: confidence 0.625, accuracy 0.5, gap 0.125.
  const std::vector<ScoredPrediction> p = {{0.95, true}, {1.0, true}, {0.6, true}, {0.65, false}};
  const CalibrationReport r = CalibrationReport::compute(p, 10);
  EXPECT_EQ(r.total(), 4u);
  EXPECT_EQ(r.bins()[9].count, 2u);
  EXPECT_NEAR(r.bins()[9].confidence, 0.975, 1e-12);
  EXPECT_EQ(r.bins()[6].count, 2u);
  EXPECT_NEAR(r.bins()[6].accuracy, 0.5, 1e-12);
  EXPECT_TRUE(std::isnan(r.bins()[0].accuracy));
  EXPECT_NEAR(r.ece(), 0.5 * 0.025 + 0.5 * 0.125, 1e-12);
  EXPECT_NEAR(r.max_gap(), 0.125, 1e-12);
  const auto doc = nlohmann::json::parse(r.json());
  EXPECT_NEAR(doc["ece"].get<double>(), 0.075, 1e-12);
  EXPECT_TRUE(doc["bins"][0]["accuracy"].is_null());
  EXPECT_NE(r.text().find("expected calibration error 0.0750"), std::string::npos) << r.text();
}

TEST(ModelSelection, StratifiedFoldsKeepClassShares) {
  std::vector<int> labels;
  for (int i = 0; i < 100; ++i) labels.push_back(i < 70 ? 0 : i < 95 ? 1 : 2);
  const auto folds = model_selection::stratified_folds(labels, 3, 5, 7);
  EXPECT_EQ(folds, model_selection::stratified_folds(labels, 3, 5, 7));
  std::vector<std::vector<int>> counts(5, std::vector<int>(3));
  for (std::size_t i = 0; i < labels.size(); ++i) ++counts[folds[i]][labels[i]];
  for (const auto& fold : counts) {
    EXPECT_EQ(fold[0], 14);
    EXPECT_EQ(fold[1], 5);
    EXPECT_LE(fold[2], 1);
  }
}

// Two noisy Gaussian classes in 5 dimensions: the out-of-fold log loss is worse at both ends of a wide C
// grid, so the search stops after the first worse candidate and picks the one before it.
TEST(ModelSelection, PicksTheLowestOutOfFoldLossAndStopsAfterAWorseOne) {
  util::Random random(3);
  head::Dataset data;
  data.dim = 5;
  for (int i = 0; i < 300; ++i) {
    const int y = i % 2;
    encoder::Features x;
    for (std::uint32_t j = 0; j < 5; ++j) {
      const double u1 = random.uniform() + 1e-12, u2 = random.uniform();
      const double gauss = std::sqrt(-2 * std::log(u1)) * std::cos(2 * M_PI * u2);
      x.index.push_back(j);
      x.value.push_back(static_cast<float>(gauss + (y == 1 && j == 0 ? 0.8 : 0.0)));
    }
    data.add(x, y);
  }
  model_selection::SelectionOptions options;
  options.grid = {1e-4, 1e-3, 1e-2, 1e-1, 1, 10, 100, 1000};
  options.calibrate = false;
  const auto s = model_selection::select_head(data, 2, {}, options);
  EXPECT_EQ(s.folds, 5);
  ASSERT_GE(s.candidates.size(), 2u);
  ASSERT_LT(s.candidates.size(), options.grid.size()) << "the search should stop once the loss grows";
  const auto& last = s.candidates.back();
  const auto& before = s.candidates[s.candidates.size() - 2];
  EXPECT_GT(last.log_loss, before.log_loss);
  EXPECT_EQ(s.C, before.C);
  for (const auto& c : s.candidates) EXPECT_GE(c.log_loss, before.log_loss);
  EXPECT_EQ(s.temperature, 1.0);
}

TEST(ModelSelection, FixedCIsKeptAndOnlyCalibrated) {
  head::Dataset data;
  data.dim = 1;
  for (int i = 0; i < 60; ++i) data.add({{0}, {i % 3 == 0 ? -1.0f : 1.0f}}, i % 3 == 0 ? 1 : i % 7 == 0);
  model_selection::SelectionOptions options;
  options.C = 0.5;
  options.grid = {1, 10};
  const auto s = model_selection::select_head(data, 2, {}, options);
  EXPECT_EQ(s.C, 0.5);
  ASSERT_EQ(s.candidates.size(), 1u);
  EXPECT_NE(s.temperature, 1.0);
  options.calibrate = false;
  EXPECT_EQ(model_selection::select_head(data, 2, {}, options).folds, 0);
}

TEST(ModelSelection, TooFewRowsSkipCrossValidationAndSaySo) {
  head::Dataset data;
  data.dim = 1;
  for (int i = 0; i < 12; ++i) data.add({{0}, {static_cast<float>(i % 2)}}, i % 2);
  model_selection::SelectionOptions options;
  options.grid = {1, 10};
  const auto s = model_selection::select_head(data, 2, {}, options);
  EXPECT_EQ(s.folds, 0);
  EXPECT_EQ(s.temperature, 1.0);
  EXPECT_NE(s.note.find("too few rows"), std::string::npos);
}

}  // namespace
}  // namespace logclf
