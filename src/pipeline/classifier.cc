#include "logclf/classifier.h"

#include <algorithm>
#include <unordered_map>

#include "bundle/bundle.h"
#include "cache/message_cache.h"
#include "pipeline/parts.h"

namespace logclf {

Classifier::Classifier(std::shared_ptr<detail::ClassifierParts> parts) : parts_(std::move(parts)) {}

Classifier Classifier::load(const std::string& model_dir, const EncoderOptions& encoder) {
  return Classifier(bundle::load_directory(model_dir, encoder));
}

Classifier Classifier::load_default(const EncoderOptions& encoder) {
  if (encoder.kind == kE5Encoder) return Classifier(bundle::load_embedded(kE5Encoder, encoder));
  if (!encoder.kind.empty() && encoder.kind != kLexicalEncoder)
    throw Error("no built-in model for the encoder '" + encoder.kind + "'");
  // Parsed once; copies share the immutable parts until set_threshold() gives a copy its own.
  static const std::shared_ptr<detail::ClassifierParts> parts = bundle::load_embedded(kLexicalEncoder, {});
  return Classifier(parts);
}

std::string Classifier::builtin_metadata_json(std::string_view encoder_kind) {
  if (encoder_kind != kE5Encoder && encoder_kind != kLexicalEncoder)
    throw Error("no built-in model for the encoder '" + std::string(encoder_kind) + "'");
  // Pretty-printed like metadata_json().
  return nlohmann::json::parse(bundle::embedded_metadata(encoder_kind)).dump(2);
}

namespace {

// The head and the threshold: the label for a line no rule decided.
void decide(const detail::ClassifierParts& p, const encoder::Features& features, Prediction& out) {
  out.probabilities.resize(p.labels.size());
  p.head.predict_proba(features, out.probabilities);
  const auto best = std::max_element(out.probabilities.begin(), out.probabilities.end());
  out.confidence = *best;
  if (out.confidence < p.threshold) {
    out.label = kUncertainLabel;
    out.stage = Stage::uncertain;
  } else {
    out.label = p.labels[static_cast<std::size_t>(best - out.probabilities.begin())];
    out.stage = Stage::model;
  }
}

bool apply_rules(const detail::ClassifierParts& p, std::string_view message, std::string_view source,
                 Prediction& out) {
  const auto rule = p.rules.match(message, source);
  if (!rule) return false;
  const Rule& r = p.rules.rules()[*rule];
  out.label = r.label;
  out.stage = Stage::rule;
  out.rule = r.name;
  out.confidence = 1.0;
  return true;
}

// Classifies lines[which[k]] into out[which[k]]: the rules (unless `rules` is false: applied already), then
// the encoder and head. The lines no rule decides are encoded together: a batching encoder (E5) runs them
// as one batch.
void classify_lines(const detail::ClassifierParts& p, std::span<const LogLine> lines,
                    std::span<const std::size_t> which, bool rules, std::vector<Prediction>& out) {
  thread_local std::vector<std::size_t> pending;
  thread_local std::vector<std::string_view> texts;
  thread_local std::vector<encoder::Features> features;
  pending.clear();
  texts.clear();
  for (const std::size_t i : which) {
    if (rules && apply_rules(p, lines[i].message, lines[i].source, out[i])) continue;
    pending.push_back(i);
    texts.push_back(lines[i].message);
  }
  if (pending.empty()) return;
  p.encoder->encode_batch(texts, features);
  for (std::size_t k = 0; k < pending.size(); ++k) decide(p, features[k], out[pending[k]]);
}

}  // namespace

Prediction Classifier::classify(std::string_view message, std::string_view source) const {
  const detail::ClassifierParts& p = *parts_;
  Prediction out;
  if (apply_rules(p, message, source, out)) return out;
  thread_local encoder::Features features;
  p.encoder->encode(message, features);
  decide(p, features, out);
  return out;
}

std::vector<Prediction> Classifier::classify_batch(std::span<const LogLine> lines, bool with_distribution) const {
  const detail::ClassifierParts& p = *parts_;
  std::vector<Prediction> out(lines.size());
  thread_local std::vector<std::size_t> all;
  all.resize(lines.size());
  for (std::size_t i = 0; i < lines.size(); ++i) all[i] = i;
  classify_lines(p, lines, all, true, out);
  if (!with_distribution)
    for (Prediction& pred : out) pred.probabilities.clear();
  return out;
}

namespace {

// Lines that share a cache key within one batch: the first is classified, the rest copy it.
struct Dedup {
  std::vector<std::size_t> firsts;                        // the first line of each key
  std::vector<cache::Key> first_keys;                     // its key
  std::vector<std::pair<std::size_t, std::size_t>> copies;  // (line, index into firsts)
  std::unordered_map<cache::Key, std::size_t, cache::KeyHash> seen;

  void clear() {
    firsts.clear();
    first_keys.clear();
    copies.clear();
    seen.clear();
  }
  void add(std::size_t line, const cache::Key& key) {
    const auto [it, first] = seen.try_emplace(key, firsts.size());
    if (first) {
      firsts.push_back(line);
      first_keys.push_back(key);
    } else {
      copies.emplace_back(line, it->second);
    }
  }
};

}  // namespace

std::vector<Prediction> Classifier::classify_batch(std::span<const LogLine> lines, MessageCache& cache,
                                                   bool with_distribution) const {
  cache::Store& c = *cache.impl_;
  if (c.mode == CacheMode::off) return classify_batch(lines, with_distribution);
  const detail::ClassifierParts& p = *parts_;
  const std::uint64_t owner = p.id.value();
  c.bind(owner);
  const bool exact = c.mode == CacheMode::exact;
  // Template keys share only confident model answers (CacheOptions::template_min_confidence); a less sure
  // answer is kept under its line's exact key, so an exact repeat still skips the model.
  const double share = exact ? 0.0 : c.template_min_confidence;
  const bool exact_fallback = !exact && share > 0.0;
  const auto shared = [&](const Prediction& pred) {
    return !exact_fallback || pred.stage == Stage::rule || pred.confidence >= share;
  };
  std::vector<Prediction> out(lines.size());
  thread_local std::string scratch;
  thread_local std::vector<std::size_t> keyed;  // the lines looked up, in order
  thread_local std::vector<cache::Key> keys, exact_keys;
  thread_local std::vector<Prediction> found;
  thread_local std::vector<char> hit;
  thread_local Dedup by_key, by_exact;
  keyed.clear();
  keys.clear();
  for (std::size_t i = 0; i < lines.size(); ++i) {
    // Exact keys remember the whole result, the rule's included; template keys only the model's, since a
    // rule may look at exactly the part a template masks.
    if (!exact && apply_rules(p, lines[i].message, lines[i].source, out[i])) continue;
    keyed.push_back(i);
    keys.push_back(exact ? cache::exact_key(lines[i].message, lines[i].source)
                         : cache::template_key(lines[i].message, lines[i].source, scratch));
  }
  found.resize(keys.size());
  c.lookup_many(owner, keys, found, hit, with_distribution);
  // What the first lookup missed: a template miss may still be an exact repeat of an unshared answer.
  thread_local std::vector<std::size_t> missed;
  thread_local std::vector<cache::Key> missed_keys;
  missed.clear();
  missed_keys.clear();
  for (std::size_t k = 0; k < keys.size(); ++k) {
    if (hit[k]) {
      std::swap(out[keyed[k]], found[k]);
    } else {
      missed.push_back(keyed[k]);
      missed_keys.push_back(keys[k]);
    }
  }
  // Exact keys of the lines that missed, by line: looked up here, then the key unshared answers are kept under.
  thread_local std::vector<cache::Key> exact_of;
  if (exact_fallback && !missed.empty()) {
    exact_of.resize(lines.size());
    exact_keys.clear();
    for (const std::size_t i : missed) {
      exact_of[i] = cache::exact_key(lines[i].message, lines[i].source);
      exact_keys.push_back(exact_of[i]);
    }
    found.resize(exact_keys.size());
    c.lookup_many(owner, exact_keys, found, hit, with_distribution, /*count_lookups=*/false);
    std::size_t kept = 0;
    for (std::size_t k = 0; k < missed.size(); ++k) {
      if (hit[k]) {
        std::swap(out[missed[k]], found[k]);
        continue;
      }
      missed[kept] = missed[k];
      missed_keys[kept] = missed_keys[k];
      ++kept;
    }
    missed.resize(kept);
    missed_keys.resize(kept);
  }
  by_key.clear();
  for (std::size_t k = 0; k < missed.size(); ++k) by_key.add(missed[k], missed_keys[k]);
  if (by_key.firsts.empty()) return out;
  classify_lines(p, lines, by_key.firsts, exact, out);  // template keys: the rules were applied already
  // Lines classified on their own: the repeats (within this batch) of a template whose answer is not shared.
  // Seeded with the unshared first lines, so that a repeat of one of them copies it.
  by_exact.clear();
  for (const std::size_t line : by_key.firsts)
    if (!shared(out[line])) by_exact.add(line, exact_of[line]);
  const std::size_t seeded = by_exact.firsts.size();
  std::size_t copied = 0;
  for (const auto& [line, first] : by_key.copies) {
    if (shared(out[by_key.firsts[first]])) {
      out[line] = out[by_key.firsts[first]];
      ++copied;
    } else {
      by_exact.add(line, exact_of[line]);
    }
  }
  if (by_exact.firsts.size() > seeded)
    classify_lines(p, lines, std::span(by_exact.firsts).subspan(seeded), exact, out);
  for (const auto& [line, first] : by_exact.copies) out[line] = out[by_exact.firsts[first]];
  copied += by_exact.copies.size();
  // Remember: shared answers under their key, the others under their line's exact key.
  thread_local std::vector<const Prediction*> values;
  keys.clear();
  values.clear();
  for (std::size_t f = 0; f < by_key.firsts.size(); ++f) {
    if (!shared(out[by_key.firsts[f]])) continue;
    keys.push_back(by_key.first_keys[f]);
    values.push_back(&out[by_key.firsts[f]]);
  }
  for (std::size_t f = 0; f < by_exact.firsts.size(); ++f) {
    keys.push_back(by_exact.first_keys[f]);
    values.push_back(&out[by_exact.firsts[f]]);
  }
  c.insert_many(owner, keys, values);
  if (!with_distribution) {
    for (const std::size_t line : by_key.firsts) out[line].probabilities.clear();
    for (const auto& [line, first] : by_key.copies) out[line].probabilities.clear();
  }
  c.count_hits(copied);  // repeats within the batch were not classified again either
  return out;
}

const std::vector<std::string>& Classifier::labels() const { return parts_->labels; }
const RuleSet& Classifier::rules() const { return parts_->rules; }
double Classifier::threshold() const { return parts_->threshold; }
std::string_view Classifier::encoder_kind() const { return parts_->encoder->kind(); }

bool Classifier::encoder_batches() const { return parts_->encoder->batches(); }

void Classifier::set_threshold(double threshold) {
  if (!(threshold >= 0.0 && threshold <= 1.0)) throw Error("threshold must be between 0 and 1");
  auto copy = std::make_shared<detail::ClassifierParts>(*parts_);
  copy->threshold = threshold;
  parts_ = std::move(copy);
}

std::string Classifier::metadata_json() const { return bundle::metadata_document(*parts_).dump(2); }

void Classifier::save(const std::string& model_dir) const { bundle::save_directory(*parts_, model_dir); }

}  // namespace logclf
