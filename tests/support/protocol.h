// The acceptance bar of the original project's protocol, shared by the lexical and the E5 protocol tests:
// on the held-out rows, the pipeline at its threshold (Uncertain counting as wrong) reaches accuracy 0.99
// and macro F1 0.98, the answers above the threshold are at least 99% right, and the head's top
// probability is calibrated (expected calibration error at most 0.05).
#pragma once

#include <gtest/gtest.h>

#include <iostream>

#include "logclf/rules.h"
#include "logclf/train.h"
#include "logclf/types.h"
#include "paths.h"

namespace logclf::testing {

// The original project's eight rules, before logclf added its own (rules/original.yaml).
inline RuleSet original_eight_rules() { return RuleSet::load((source_dir() / "rules/original.yaml").string()); }


inline void expect_calibrated_protocol(const TrainResult& result, const std::string& what) {
  ASSERT_TRUE(result.held_out_pipeline && result.held_out && result.held_out_calibration);
  const ClassificationReport& pipeline = *result.held_out_pipeline;
  std::cout << what << ": " << result.rows_train << " train, " << result.rows_test << " held out, C "
            << result.C << ", temperature " << result.temperature << ", " << result.held_out_uncertain
            << " Uncertain\n"
            << pipeline.text() << result.held_out_calibration->text();
  EXPECT_GE(pipeline.accuracy(), 0.99) << what;
  EXPECT_GE(pipeline.macro_avg().f1, 0.98) << what;
  // Confident answers: every held-out row the pipeline did not call Uncertain.
  std::size_t right = 0, confident = 0;
  const auto& labels = pipeline.labels();
  for (std::size_t t = 0; t < labels.size(); ++t)
    for (std::size_t p = 0; p < labels.size(); ++p) {
      if (labels[p] == kUncertainLabel) continue;
      confident += pipeline.confusion()[t][p];
      if (t == p) right += pipeline.confusion()[t][p];
    }
  ASSERT_GT(confident, 0u);
  EXPECT_GE(static_cast<double>(right) / static_cast<double>(confident), 0.99) << what;
  EXPECT_LE(result.held_out_calibration->ece(), 0.05) << what;
}

}  // namespace logclf::testing
