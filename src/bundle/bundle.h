// The model bundle: a versioned directory holding everything a Classifier needs (docs/FORMATS.md).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "logclf/encoder.h"
#include "pipeline/parts.h"

namespace logclf::bundle {

inline constexpr int kFormatVersion = 1;
inline constexpr const char* kMetadataFile = "logclf-model.json";
inline constexpr const char* kRulesFile = "rules.yaml";
inline constexpr const char* kEncoderFile = "encoder.bin";  // lexical encoder only
inline constexpr const char* kHeadFile = "head.bin";

// Returns the contents of the bundle file `name`; throws Error when it is missing.
using FileReader = std::function<std::string(const std::string& name)>;

// `options` finds the weights of a pretrained encoder (E5) and may require an encoder kind.
std::shared_ptr<detail::ClassifierParts> load(const FileReader& read, const std::string& where,
                                              const EncoderOptions& options);
std::shared_ptr<detail::ClassifierParts> load_directory(const std::string& dir, const EncoderOptions& options);
std::shared_ptr<detail::ClassifierParts> load_embedded_default();

// The metadata document for `parts` as it is written to logclf-model.json.
nlohmann::json metadata_document(const detail::ClassifierParts& parts);
void save_directory(const detail::ClassifierParts& parts, const std::string& dir);

}  // namespace logclf::bundle
