// Deterministic generator of realistic labelled log lines: the training corpus of the default model, and
// a source of test and benchmark data.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace logclf::corpus {

struct GeneratedLine {
  std::string timestamp;
  std::string source;
  std::string message;
  std::string label;
};

struct GeneratorOptions {
  std::size_t count = 20000;
  std::uint64_t seed = 1;
};

// The same options always give the same lines, on every platform.
std::vector<GeneratedLine> generate(const GeneratorOptions& options);

// The nine labels the generator produces, in a fixed order.
const std::vector<std::string>& labels();

// The generated lines as CSV with the header timestamp,source,log_message,target_label.
std::string generate_csv(const GeneratorOptions& options);

}  // namespace logclf::corpus
