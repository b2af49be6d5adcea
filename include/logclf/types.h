// Core value types shared by every part of the public API.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace logclf {

// Every recoverable failure (bad input, bad model bundle, bad rules file) is reported as an Error whose
// message names the file, line or field at fault.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Which pipeline stage decided a line's label.
enum class Stage { rule, model, uncertain };
std::string_view to_string(Stage stage);

// The version of logclf, e.g. "0.1.0".
std::string_view version();

// The label given to lines whose head probability is below the threshold.
inline constexpr std::string_view kUncertainLabel = "Uncertain";

struct Prediction {
  std::string label;
  Stage stage = Stage::uncertain;
  std::string rule;          // name of the deciding rule when stage == rule
  double confidence = 0.0;   // head's top probability; 1.0 when a rule decided
  std::vector<float> probabilities;  // head distribution in Classifier::labels() order; empty for rules
};

// A log line to classify. `source` is optional (empty = unknown) and is used by rules with a source filter.
struct LogLine {
  std::string_view message;
  std::string_view source;
};

// A labelled example for training and evaluation.
struct LabeledLine {
  std::string message;
  std::string source;
  std::string label;
};

}  // namespace logclf
