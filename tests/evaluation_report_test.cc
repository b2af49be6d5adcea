#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "logclf/evaluation.h"
#include "logclf/types.h"

namespace logclf {
namespace {

using Labels = std::vector<std::string>;

// truth {a,a,b,c}, predicted {a,b,b,b}. Confusion (rows true, columns predicted, order a b c):
//   a: 1 1 0    b: 0 1 0    c: 0 1 0
// a: P = 1/1 = 1,   R = 1/2 = 0.5, F1 = 2*0.5/1.5 = 0.6667, support 2
// b: P = 1/3,       R = 1/1 = 1,   F1 = 2*(1/3)/(4/3) = 0.5, support 1
// c: P undefined (never predicted), R = 0/1 = 0, F1 undefined, support 1
// accuracy = 2/4 = 0.5
// macro (undefined -> 0):    P = (1 + 1/3 + 0)/3 = 0.4444, R = (0.5 + 1 + 0)/3 = 0.5,
//                            F1 = (0.6667 + 0.5 + 0)/3 = 0.3889
// weighted by support 2,1,1: P = (2 + 1/3)/4 = 0.5833, R = (1 + 1)/4 = 0.5, F1 = (1.3333 + 0.5)/4 = 0.4583
ClassificationReport small_report() {
  const Labels truth = {"a", "a", "b", "c"}, predicted = {"a", "b", "b", "b"};
  return ClassificationReport::compute(truth, predicted);
}

TEST(EvaluationReport, ComputesCountsAndScores) {
  const ClassificationReport r = small_report();
  EXPECT_EQ(r.labels(), (Labels{"a", "b", "c"}));
  const std::vector<std::vector<std::size_t>> confusion = {{1, 1, 0}, {0, 1, 0}, {0, 1, 0}};
  EXPECT_EQ(r.confusion(), confusion);
  EXPECT_EQ(r.total(), 4u);
  EXPECT_DOUBLE_EQ(r.accuracy(), 0.5);

  const auto& a = r.per_label()[0];
  EXPECT_EQ(a.label, "a");
  EXPECT_DOUBLE_EQ(a.precision, 1.0);
  EXPECT_DOUBLE_EQ(a.recall, 0.5);
  EXPECT_DOUBLE_EQ(a.f1, 2.0 / 3.0);
  EXPECT_EQ(a.support, 2u);

  const auto& b = r.per_label()[1];
  EXPECT_DOUBLE_EQ(b.precision, 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(b.recall, 1.0);
  EXPECT_DOUBLE_EQ(b.f1, 0.5);
  EXPECT_EQ(b.support, 1u);

  const auto& c = r.per_label()[2];
  EXPECT_TRUE(std::isnan(c.precision));
  EXPECT_DOUBLE_EQ(c.recall, 0.0);
  EXPECT_TRUE(std::isnan(c.f1));
  EXPECT_EQ(c.support, 1u);

  EXPECT_EQ(r.macro_avg().label, "macro avg");
  EXPECT_DOUBLE_EQ(r.macro_avg().precision, (1.0 + 1.0 / 3.0) / 3.0);
  EXPECT_DOUBLE_EQ(r.macro_avg().recall, 0.5);
  EXPECT_DOUBLE_EQ(r.macro_avg().f1, (2.0 / 3.0 + 0.5) / 3.0);
  EXPECT_EQ(r.macro_avg().support, 4u);

  EXPECT_EQ(r.weighted_avg().label, "weighted avg");
  EXPECT_DOUBLE_EQ(r.weighted_avg().precision, (2.0 + 1.0 / 3.0) / 4.0);
  EXPECT_DOUBLE_EQ(r.weighted_avg().recall, 0.5);
  EXPECT_DOUBLE_EQ(r.weighted_avg().f1, (4.0 / 3.0 + 0.5) / 4.0);
  EXPECT_EQ(r.weighted_avg().support, 4u);
}

TEST(EvaluationReport, LabelOnlyPredictedHasUndefinedRecall) {
  const Labels truth = {"a", "a"}, predicted = {"a", "z"};
  const ClassificationReport r = ClassificationReport::compute(truth, predicted);
  ASSERT_EQ(r.labels(), (Labels{"a", "z"}));
  const auto& z = r.per_label()[1];
  EXPECT_DOUBLE_EQ(z.precision, 0.0);
  EXPECT_TRUE(std::isnan(z.recall));
  EXPECT_TRUE(std::isnan(z.f1));
  EXPECT_EQ(z.support, 0u);
  // Support-0 labels still count in the macro average (as 0), not in the weighted one.
  EXPECT_DOUBLE_EQ(r.macro_avg().recall, 0.25);
  EXPECT_DOUBLE_EQ(r.weighted_avg().recall, 0.5);
}

TEST(EvaluationReport, ZeroPrecisionAndRecallGiveZeroF1) {
  const Labels truth = {"a", "b"}, predicted = {"b", "a"};
  const ClassificationReport r = ClassificationReport::compute(truth, predicted);
  for (const LabelScores& s : r.per_label()) {
    EXPECT_DOUBLE_EQ(s.precision, 0.0);
    EXPECT_DOUBLE_EQ(s.recall, 0.0);
    EXPECT_DOUBLE_EQ(s.f1, 0.0);
  }
  EXPECT_DOUBLE_EQ(r.accuracy(), 0.0);
}

TEST(EvaluationReport, LabelsAreSortedByBytes) {
  const Labels truth = {"beta", "Zeta", "\xC3\xA9t\xC3\xA9", "alpha"},
               predicted = {"B", "beta", "alpha", "alpha"};
  const ClassificationReport r = ClassificationReport::compute(truth, predicted);
  EXPECT_EQ(r.labels(), (Labels{"B", "Zeta", "alpha", "beta", "\xC3\xA9t\xC3\xA9"}));
}

TEST(EvaluationReport, RejectsMismatchedAndEmptyInput) {
  const Labels two = {"a", "b"}, one = {"a"}, none;
  EXPECT_THROW(ClassificationReport::compute(two, one), Error);
  EXPECT_THROW(ClassificationReport::compute(none, none), Error);
}

TEST(EvaluationReport, TextMatchesScikitLearnLayout) {
  // Values from the hand computation above; undefined scores print as 0.00.
  const std::string expected =
      "              precision    recall  f1-score   support\n"
      "\n"
      "           a       1.00      0.50      0.67         2\n"
      "           b       0.33      1.00      0.50         1\n"
      "           c       0.00      0.00      0.00         1\n"
      "\n"
      "    accuracy                           0.50         4\n"
      "   macro avg       0.44      0.50      0.39         4\n"
      "weighted avg       0.58      0.50      0.46         4\n";
  EXPECT_EQ(small_report().text(), expected);
}

TEST(EvaluationReport, TextMatchesScikitLearnDocstringExample) {
  // classification_report([0, 1, 2, 2, 2], [0, 0, 2, 2, 1], target_names=['class 0', 'class 1', 'class 2'])
  const Labels truth = {"class 0", "class 1", "class 2", "class 2", "class 2"};
  const Labels predicted = {"class 0", "class 0", "class 2", "class 2", "class 1"};
  const std::string expected =
      "              precision    recall  f1-score   support\n"
      "\n"
      "     class 0       0.50      1.00      0.67         1\n"
      "     class 1       0.00      0.00      0.00         1\n"
      "     class 2       1.00      0.67      0.80         3\n"
      "\n"
      "    accuracy                           0.60         5\n"
      "   macro avg       0.50      0.56      0.49         5\n"
      "weighted avg       0.70      0.60      0.61         5\n";
  EXPECT_EQ(ClassificationReport::compute(truth, predicted).text(), expected);
}

TEST(EvaluationReport, TextWidensForLongUtf8LabelsByCodePoints) {
  // The longest label has 32 code points (34 bytes): the name column is 32 wide, as Python's len() gives.
  const std::string u =
      "\xC3\x9C"
      "berpr\xC3\xBC"
      "fungsfehler der Datenbank";
  const Labels truth = {u, u, u, "Zeta", "Zeta", "alpha", "alpha", "alpha", "alpha"};
  const Labels predicted = {u, "alpha", u, "Zeta", u, "alpha", "alpha", "Zeta", "beta"};
  const std::string expected =
      "                                  precision    recall  f1-score   support\n"
      "\n"
      "                            Zeta     0.5000    0.5000    0.5000         2\n"
      "                           alpha     0.6667    0.5000    0.5714         4\n"
      "                            beta     0.0000    0.0000    0.0000         0\n" +
      u +
      "     0.6667    0.6667    0.6667         3\n"
      "\n"
      "                        accuracy                         0.5556         9\n"
      "                       macro avg     0.4583    0.4167    0.4345         9\n"
      "                    weighted avg     0.6296    0.5556    0.5873         9\n";
  EXPECT_EQ(ClassificationReport::compute(truth, predicted).text(4), expected);
}

TEST(EvaluationReport, ConfusionText) {
  const std::string expected =
      "true \\ predicted  a  b  c\n"
      "a                 1  1  0\n"
      "b                 0  1  0\n"
      "c                 0  1  0\n";
  EXPECT_EQ(small_report().confusion_text(), expected);
}

TEST(EvaluationReport, ConfusionTextWidensColumnsForLabelsAndCounts) {
  Labels truth(1000, "x"), predicted(1000, "x");
  truth.push_back("long label");
  predicted.push_back("x");
  const std::string expected =
      "true \\ predicted  long label     x\n"
      "long label                 0     1\n"
      "x                          0  1000\n";
  EXPECT_EQ(ClassificationReport::compute(truth, predicted).confusion_text(), expected);
}

TEST(EvaluationReport, JsonParsesBackWithNullForUndefined) {
  const nlohmann::json j = nlohmann::json::parse(small_report().json());
  EXPECT_EQ(j["labels"], nlohmann::json({"a", "b", "c"}));
  EXPECT_DOUBLE_EQ(j["per_label"]["a"]["precision"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(j["per_label"]["a"]["recall"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(j["per_label"]["b"]["f1"].get<double>(), 0.5);
  EXPECT_EQ(j["per_label"]["a"]["support"], 2);
  EXPECT_TRUE(j["per_label"]["c"]["precision"].is_null());
  EXPECT_TRUE(j["per_label"]["c"]["f1"].is_null());
  EXPECT_DOUBLE_EQ(j["per_label"]["c"]["recall"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(j["accuracy"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(j["macro_avg"]["precision"].get<double>(), (1.0 + 1.0 / 3.0) / 3.0);
  EXPECT_EQ(j["macro_avg"]["support"], 4);
  EXPECT_DOUBLE_EQ(j["weighted_avg"]["f1"].get<double>(), (4.0 / 3.0 + 0.5) / 4.0);
  EXPECT_EQ(j["confusion"], nlohmann::json::parse("[[1,1,0],[0,1,0],[0,1,0]]"));
  EXPECT_EQ(j["total"], 4);
}

}  // namespace
}  // namespace logclf
