// The message cache's keys and storage (the public face is include/logclf/cache.h).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "logclf/cache.h"
#include "logclf/types.h"

namespace logclf {

namespace cache {

// A 128-bit digest of what a line is looked up by. Entries are told apart by the digest alone: at 2^-128
// per pair, a collision among even billions of distinct lines is not a practical concern, and keeping the
// texts would double the memory of every entry.
struct Key {
  std::uint64_t low = 0, high = 0;
  bool operator==(const Key&) const = default;
};

struct KeyHash {
  std::size_t operator()(const Key& key) const { return static_cast<std::size_t>(key.low); }
};

Key exact_key(std::string_view message, std::string_view source);
// `scratch` holds the template while it is hashed (reused from line to line).
Key template_key(std::string_view message, std::string_view source, std::string& scratch);
// Appends message_template(message) to `out`.
void append_template(std::string_view message, std::string& out);

}  // namespace cache

// The cache's store behind MessageCache: shards of entries, each under its own lock.
struct cache::Store {
  explicit Store(CacheOptions options);
  ~Store();

  // `owner` is the identity of the classifier whose results are looked up or kept (ClassifierParts::id,
  // never 0). Each shard holds the results of one owner: a lookup or insert by another one empties it first,
  // under the shard's lock, so that threads classifying with different classifiers never mix results.

  // Empties every shard that last served another owner (so that stats() and memory count only its results).
  void bind(std::uint64_t owner);
  // Copies the result kept for `key` into `out`; false when there is none, or when `with_distribution`
  // asks for the probabilities and the entry has none.
  bool lookup(std::uint64_t owner, const cache::Key& key, Prediction& out, bool with_distribution);
  void insert(std::uint64_t owner, const cache::Key& key, const Prediction& value);
  // The same for many keys at once (each shard locked once): found[i] says whether out[i] was filled.
  // `count_lookups` false: the lines were counted already (a second key for lines that missed the first).
  void lookup_many(std::uint64_t owner, std::span<const cache::Key> keys, std::span<Prediction> out,
                   std::vector<char>& found, bool with_distribution, bool count_lookups = true);
  void insert_many(std::uint64_t owner, std::span<const cache::Key> keys,
                   std::span<const Prediction* const> values);
  // Counts `n` lookups that missed as hits after all (lines answered by an earlier line of their batch).
  void count_hits(std::uint64_t n);
  CacheStats stats() const;
  void clear();

  CacheMode mode;
  std::size_t capacity;
  double template_min_confidence;

 private:
  struct Shard;
  Shard& shard(const cache::Key& key);
  static void adopt_locked(Shard& s, std::uint64_t owner);
  static bool lookup_locked(Shard& s, std::uint64_t owner, const cache::Key& key, Prediction& out,
                            bool with_distribution, bool count_lookup = true);
  static void insert_locked(Shard& s, std::uint64_t owner, const cache::Key& key, const Prediction& value);

  std::vector<std::unique_ptr<Shard>> shards_;
  std::mutex owner_mutex_;
  std::atomic<std::uint64_t> owner_{0};  // the owner bind() last emptied every shard for
};

}  // namespace logclf
