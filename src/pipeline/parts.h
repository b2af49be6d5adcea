// What a Classifier is made of; shared by the pipeline, the bundle reader/writer and training.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "encoder/encoder.h"
#include "head/logreg.h"
#include "logclf/rules.h"

namespace logclf::detail {

struct ClassifierParts {
  RuleSet rules;
  std::shared_ptr<const encoder::Encoder> encoder;
  std::string encoder_file;      // the encoder's saved parameters file (encoder.bin)
  head::LogisticRegression head;
  std::vector<std::string> labels;
  double threshold = 0.5;
  nlohmann::json metadata;       // logclf-model.json
};

}  // namespace logclf::detail
