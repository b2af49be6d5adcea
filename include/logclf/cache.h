// The message cache: log streams repeat the same few thousand messages (and templates) millions of times, so
// a line seen before takes the remembered result instead of going through the encoder and head again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace logclf {

namespace cache {
struct Store;  // src/cache/message_cache.h
}

class Classifier;

enum class CacheMode {
  off,
  // Same source and same message -> the same result. Changes no label: the pipeline is deterministic.
  exact,
  // Rules still see every line; the model's result is shared by lines whose template (message_template())
  // and source are equal. May change a label where only a masked part (a number, an id, a path) would
  // have changed the model's answer.
  template_key,
};

// "off", "exact", "template"; nullopt for anything else.
std::optional<CacheMode> parse_cache_mode(std::string_view name);
std::string_view to_string(CacheMode mode);

struct CacheOptions {
  CacheMode mode = CacheMode::exact;
  std::size_t capacity = std::size_t{1} << 17;  // results kept (131,072: about 20 MB)
  // Template keys: a model answer is shared with the template's other lines only when its top probability
  // is at least this; a less sure answer can flip with the very numbers the template masks, so it is kept
  // under its line's exact key instead (an exact repeat still skips the model) and the template's other
  // lines are classified one by one. 0 shares every answer. With the E5 encoder on lines outside its
  // labels the answer moves with the digits: on the 9,997 Loghub sample lines sharing every answer
  // changed 8.0% of the labels, 0.95 0.13%, 0.99 none; on a repetitive stream the lexical model keeps
  // 98.9% hits at 0.99 (99.8% at 0).
  double template_min_confidence = 0.99;
};

struct CacheStats {
  std::uint64_t lookups = 0;  // lines looked up
  std::uint64_t hits = 0;     // lines answered from the cache
  std::uint64_t entries = 0;  // results held now
  double hit_rate() const { return lookups ? static_cast<double>(hits) / static_cast<double>(lookups) : 0.0; }
};

// The Drain-style template of a message: every word holding a digit is masked (a word made only of hex
// digits, which covers numbers, hashes and UUID parts, becomes "<*>"; in other words each digit run becomes
// "<*>"), and a path ("/a/b", "./a/b", "~/a", "C:\a\b") becomes "<path>". Punctuation, letters and spacing
// are kept, so "took 35 ms" and "took 120 ms" share a template but "took 35 ms" and "took 35 s" do not.
//
// On purpose the template is coarser than what the lexical encoder sees (src/encoder/lexical.cc), not a
// refinement of it: the encoder keeps a short id's letters ("abc123" -> abc0, "def456" -> def0) and a
// path's words, so a template that never merged lines the encoder tells apart would give every UUID, host
// and file its own template and share nothing. A shared answer may therefore differ from the one the model
// would give the line; template_min_confidence limits sharing to sure answers. On real logs (the five Loghub
// samples, 10,000 lines) the built-in model's labels are the same with and without the template cache even
// when every answer is shared (test CachedClassify.TemplateCacheKeepsTheLabelsOfRealLogs). E5 sees the raw
// text, so for it every template is an approximation of this kind.
std::string message_template(std::string_view message);

// A bounded cache of classification results, shared by any number of threads (Classifier::classify_batch
// with a cache). Kept for one classifier: used with another (or another threshold) it starts empty.
// Eviction is CLOCK (an approximation of least recently used): a hit costs no list update.
class MessageCache {
 public:
  explicit MessageCache(CacheOptions options = {});
  ~MessageCache();
  MessageCache(const MessageCache&) = delete;
  MessageCache& operator=(const MessageCache&) = delete;

  CacheMode mode() const;
  std::size_t capacity() const;
  CacheStats stats() const;
  void clear();


 private:
  friend class Classifier;
  std::unique_ptr<cache::Store> impl_;
};

}  // namespace logclf
