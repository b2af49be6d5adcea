// The model bundle: a versioned directory holding everything a Classifier needs (docs/FORMATS.md).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "io/regular_file.h"
#include "logclf/encoder.h"
#include "pipeline/parts.h"

namespace logclf::bundle {

inline constexpr int kFormatVersion = 1;
inline constexpr const char* kMetadataFile = "logclf-model.json";
inline constexpr const char* kRulesFile = "rules.yaml";
inline constexpr const char* kEncoderFile = "encoder.bin";  // lexical encoder only
inline constexpr const char* kHeadFile = "head.bin";

// What load() knows of a bundle file's size before it is read: the most a file of its kind may hold and,
// when the metadata announces it, its exact size (`announced` says how, for the error message).
using io::FileSize;
using io::kMaxTextFileBytes;  // metadata, rules
inline constexpr std::uint64_t kMaxBinaryFileBytes = std::uint64_t{4} << 30;  // encoder, head

// Returns the contents of the bundle file `name`; throws Error when it is missing or not of `size`.
using FileReader = std::function<std::string(const std::string& name, const FileSize& size)>;

// `options` finds the weights of a pretrained encoder (E5) and may require an encoder kind.
std::shared_ptr<detail::ClassifierParts> load(const FileReader& read, const std::string& where,
                                              const EncoderOptions& options);
std::shared_ptr<detail::ClassifierParts> load_directory(const std::string& dir, const EncoderOptions& options);
// A built-in bundle (embedded at build time): the lexical default, or the head for the E5 encoder (whose
// weights `options` finds, as for any E5 bundle).
std::shared_ptr<detail::ClassifierParts> load_embedded(std::string_view encoder_kind, const EncoderOptions& options);
// Its logclf-model.json, read without loading the encoder.
std::string embedded_metadata(std::string_view encoder_kind);

// The metadata document for `parts` as it is written to logclf-model.json.
nlohmann::json metadata_document(const detail::ClassifierParts& parts);
void save_directory(const detail::ClassifierParts& parts, const std::string& dir);

}  // namespace logclf::bundle
