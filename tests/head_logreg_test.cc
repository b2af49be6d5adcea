#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "head/logreg.h"
#include "logclf/types.h"
#include "support/paths.h"

namespace logclf::head {
namespace {

encoder::Features dense(const std::vector<double>& row) {
  encoder::Features f;
  for (std::size_t j = 0; j < row.size(); ++j) {
    f.index.push_back(static_cast<std::uint32_t>(j));
    f.value.push_back(static_cast<float>(row[j]));
  }
  return f;
}

// Against scikit-learn 1.2.1 LogisticRegression(max_iter=1000) fitted on the same data.
TEST(LogisticRegression, MatchesScikitLearnGolden) {
  const auto path = testing::shared_file("golden/logreg.json");
  if (path.empty()) GTEST_SKIP() << "SKIPPED: ../shared/golden/logreg.json is absent";
  std::ifstream in(path);
  const auto golden = nlohmann::json::parse(in);
  const auto classes = golden["classes"].get<std::vector<std::string>>();
  auto class_index = [&](const std::string& label) {
    return static_cast<int>(std::find(classes.begin(), classes.end(), label) - classes.begin());
  };
  Dataset data;
  data.dim = golden["X_train"][0].size();
  for (std::size_t i = 0; i < golden["X_train"].size(); ++i)
    data.add(dense(golden["X_train"][i].get<std::vector<double>>()),
             class_index(golden["y_train"][i].get<std::string>()));
  FitReport report;
  const auto model = LogisticRegression::fit(data, static_cast<int>(classes.size()), {}, &report);
  EXPECT_TRUE(report.converged);

  std::vector<float> proba(classes.size());
  double worst = 0.0;
  for (std::size_t i = 0; i < golden["X_test"].size(); ++i) {
    model.predict_proba(dense(golden["X_test"][i].get<std::vector<double>>()), proba);
    const auto expected = golden["proba_test"][i].get<std::vector<double>>();
    for (std::size_t c = 0; c < classes.size(); ++c) worst = std::max(worst, std::abs(proba[c] - expected[c]));
    const auto best = std::max_element(proba.begin(), proba.end()) - proba.begin();
    EXPECT_EQ(classes[best], golden["pred_test"][i].get<std::string>()) << "test row " << i;
  }
  std::cout << "largest |p - p_sklearn| over the test matrix: " << worst << " after " << report.iterations
            << " L-BFGS iterations\n";
  EXPECT_LT(worst, 1e-3) << "largest probability difference from scikit-learn";
}

// Two separable points, one feature: the optimum of the penalised objective can be checked by hand.
// With x = +1 for class 0 and -1 for class 1, symmetry gives b = 0 and w = (w0, -w0), and the
// stationarity condition 2 * sigma(-2 w0) = w0 / C (C = 1) has the root w0 = 0.6717... (solved below).
TEST(LogisticRegression, HandComputedOptimum) {
  Dataset data;
  data.dim = 1;
  data.add({{0}, {1.0f}}, 0);
  data.add({{0}, {-1.0f}}, 1);
  const auto model = LogisticRegression::fit(data, 2, {});
  double lo = 0, hi = 2;  // bisection on f(w) = 2 / (1 + exp(2w)) - w
  for (int i = 0; i < 100; ++i) {
    const double mid = (lo + hi) / 2;
    (2.0 / (1.0 + std::exp(2 * mid)) - mid > 0 ? lo : hi) = mid;
  }
  EXPECT_NEAR(model.weight(0, 0), lo, 1e-4);
  EXPECT_NEAR(model.weight(0, 1), -lo, 1e-4);
  EXPECT_NEAR(model.intercept(0) - model.intercept(1), 0.0, 1e-4);
}

TEST(LogisticRegression, BalancedWeightsFavourTheRareClass) {
  // Nine examples of class 0 and one of class 1 on the same point: the unweighted optimum predicts 0.9
  // for class 0; balanced weights make both classes weigh the same, so the probabilities meet at 0.5.
  Dataset data;
  data.dim = 1;
  for (int i = 0; i < 9; ++i) data.add({{0}, {1.0f}}, 0);
  data.add({{0}, {1.0f}}, 1);
  FitOptions options;
  options.C = 1e6;  // almost no penalty, so the optimum is the empirical frequency
  std::vector<float> proba(2);
  LogisticRegression::fit(data, 2, options).predict_proba({{0}, {1.0f}}, proba);
  EXPECT_NEAR(proba[0], 0.9, 1e-3);
  options.balanced = true;
  LogisticRegression::fit(data, 2, options).predict_proba({{0}, {1.0f}}, proba);
  EXPECT_NEAR(proba[0], 0.5, 1e-3);
}

TEST(LogisticRegression, SerializeRoundTrip) {
  Dataset data;
  data.dim = 3;
  data.add({{0, 2}, {1.0f, 0.5f}}, 0);
  data.add({{1}, {1.0f}}, 1);
  data.add({{2}, {1.0f}}, 2);
  const auto model = LogisticRegression::fit(data, 3, {});
  const auto copy = LogisticRegression::load(model.serialize(), "head.bin");
  std::vector<float> a(3), b(3);
  model.predict_proba({{0, 1}, {0.3f, 0.7f}}, a);
  copy.predict_proba({{0, 1}, {0.3f, 0.7f}}, b);
  EXPECT_EQ(a, b);
  std::string truncated = model.serialize();
  truncated.pop_back();
  EXPECT_THROW(LogisticRegression::load(truncated, "head.bin"), Error);
  EXPECT_THROW(LogisticRegression::load("garbage", "head.bin"), Error);
}

}  // namespace
}  // namespace logclf::head
