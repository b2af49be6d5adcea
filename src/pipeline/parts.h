// What a Classifier is made of; shared by the pipeline, the bundle reader/writer and training.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "encoder/encoder.h"
#include "head/logreg.h"
#include "logclf/classifier.h"
#include "logclf/rules.h"

namespace logclf::detail {

// A number no other ClassifierParts of this process has had: the message cache tells by it which classifier
// its answers came from (an address is reused once the parts are freed). A copy gets a number of its own,
// since copies are made to be changed (Classifier::set_threshold).
class PartsId {
 public:
  PartsId() : value_(next()) {}
  PartsId(const PartsId&) : value_(next()) {}
  PartsId& operator=(const PartsId&) {
    value_ = next();
    return *this;
  }
  std::uint64_t value() const { return value_; }

 private:
  static std::uint64_t next() {
    static std::atomic<std::uint64_t> last{0};
    return last.fetch_add(1, std::memory_order_relaxed) + 1;  // 0 stands for no classifier
  }
  std::uint64_t value_;
};

struct ClassifierParts {
  RuleSet rules;
  std::shared_ptr<const encoder::Encoder> encoder;
  std::string encoder_file;      // the encoder's saved parameters file (encoder.bin)
  head::LogisticRegression head;
  std::vector<std::string> labels;
  double threshold = 0.5;
  nlohmann::json metadata;       // logclf-model.json
  PartsId id;
};

// The one way the library (bundle loading, training) turns parts into a Classifier.
struct ClassifierAccess {
  static Classifier make(std::shared_ptr<ClassifierParts> parts) { return Classifier(std::move(parts)); }
};

}  // namespace logclf::detail
