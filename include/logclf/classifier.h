// The hybrid classifier: rules first, then encoder + logistic-regression head, then the threshold.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "logclf/cache.h"
#include "logclf/encoder.h"
#include "logclf/rules.h"
#include "logclf/types.h"

namespace logclf {

namespace detail {
struct ClassifierParts;
struct ClassifierAccess;  // src/pipeline/parts.h: how the library makes a Classifier from its parts
}

class Classifier {
 public:
  // Loads a model bundle directory (layout: docs/FORMATS.md). Throws Error naming the missing or bad part.
  // A model on the E5 encoder finds its weights through `encoder` and refuses weights other than those it
  // was trained with.
  static Classifier load(const std::string& model_dir, const EncoderOptions& encoder = {});
  // A model built into logclf, trained on the project's own generated corpus: with the lexical encoder
  // (the default, self-contained) or, with `encoder.kind` e5-small-v2, a head for the E5 encoder whose
  // weights are found through `encoder` and must be those it was trained on.
  static Classifier load_default(const EncoderOptions& encoder = {});
  // The built-in model's metadata document (logclf-model.json) as JSON text, without loading its encoder.
  static std::string builtin_metadata_json(std::string_view encoder_kind = kLexicalEncoder);

  Prediction classify(std::string_view message, std::string_view source = {}) const;
  // One prediction per line, in order. `with_distribution` keeps Prediction::probabilities.
  std::vector<Prediction> classify_batch(std::span<const LogLine> lines, bool with_distribution = false) const;
  // The same through `cache` (safe from many threads at once): a line whose key (cache.h) was seen before
  // takes the remembered result; lines of one batch with the same key are classified once.
  std::vector<Prediction> classify_batch(std::span<const LogLine> lines, MessageCache& cache,
                                         bool with_distribution = false) const;

  // The head's labels, in the order of Prediction::probabilities.
  const std::vector<std::string>& labels() const;
  const RuleSet& rules() const;
  double threshold() const;
  void set_threshold(double threshold);  // 0 <= threshold <= 1
  std::string_view encoder_kind() const;
  // Whether the encoder's cost is mostly per call (E5's forward pass) rather than per line (lexical): callers
  // should then classify lines in batches, even making a line wait a little for others.
  bool encoder_batches() const;
  // The bundle's metadata document (logclf-model.json) as JSON text.
  std::string metadata_json() const;

  // Writes the bundle to `model_dir`, replacing any bundle there only once every file is written.
  void save(const std::string& model_dir) const;


 private:
  friend struct detail::ClassifierAccess;
  explicit Classifier(std::shared_ptr<detail::ClassifierParts> parts);
  std::shared_ptr<detail::ClassifierParts> parts_;
};

}  // namespace logclf
