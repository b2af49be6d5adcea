#include "cache/message_cache.h"

#include <xxhash.h>

#include <algorithm>
#include <cstdint>
#include <span>

#include "util/ascii.h"

namespace logclf {

std::optional<CacheMode> parse_cache_mode(std::string_view name) {
  if (name == "off") return CacheMode::off;
  if (name == "exact") return CacheMode::exact;
  if (name == "template") return CacheMode::template_key;
  return std::nullopt;
}

std::string_view to_string(CacheMode mode) {
  switch (mode) {
    case CacheMode::off: return "off";
    case CacheMode::exact: return "exact";
    case CacheMode::template_key: return "template";
  }
  return "off";
}

namespace cache {

namespace {

constexpr std::uint64_t kExactSeed = 0x6c6f67636c662d65;     // "logclf-e"
constexpr std::uint64_t kTemplateSeed = 0x6c6f67636c662d74;  // "logclf-t"

using util::is_word_byte;
bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
bool is_hex(unsigned char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }
// Characters that end a path inside a token: "(/etc/hosts)", "'/tmp/x',", "path=/a/b;".
bool ends_path(unsigned char c) {
  return is_space(c) || c == ',' || c == ';' || c == '"' || c == '\'' || c == ')' || c == ']' || c == '}' ||
         c == '>' || c == '|';
}

// The length of the path starting at `i` (where a path may start), or 0 when none does. A path has a
// root ("/", "./", "../", "~/" or a drive "C:\") and at least two parts, so "/", "/login" and "a/b" (a
// ratio, "and/or") are left alone while "/var/log/syslog" and "./data/x.csv" are masked.
std::size_t path_length(std::string_view s, std::size_t i) {
  std::size_t p = i;
  const auto at = [&](std::size_t k) { return k < s.size() ? static_cast<unsigned char>(s[k]) : 0; };
  char separator = '/';
  if (at(p) == '/') {
    ++p;
  } else if (at(p) == '~' && at(p + 1) == '/') {
    p += 2;
  } else if (at(p) == '.' && at(p + 1) == '/') {
    p += 2;
  } else if (at(p) == '.' && at(p + 1) == '.' && at(p + 2) == '/') {
    p += 3;
  } else if (((at(p) >= 'A' && at(p) <= 'Z') || (at(p) >= 'a' && at(p) <= 'z')) && at(p + 1) == ':' &&
             at(p + 2) == '\\') {
    p += 3;
    separator = '\\';
  } else {
    return 0;
  }
  std::size_t parts = 0;
  bool in_part = false;
  for (; p < s.size() && !ends_path(at(p)); ++p) {
    if (at(p) == separator) {
      in_part = false;
    } else if (!in_part) {
      in_part = true;
      ++parts;
    }
  }
  return parts >= 2 ? p - i : 0;
}

}  // namespace

// Written by hand rather than with regular expressions: it runs on every line of a stream at line rate,
// and one pass over the bytes does every mask at once.
void append_template(std::string_view s, std::string& out) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    const bool token_start = i == 0 || is_space(static_cast<unsigned char>(s[i - 1])) || s[i - 1] == '=' ||
                             s[i - 1] == '(' || s[i - 1] == '[' || s[i - 1] == '"' || s[i - 1] == '\'';
    if (token_start) {
      if (const std::size_t n = path_length(s, i); n > 0) {
        out += "<path>";
        i += n;
        continue;
      }
    }
    if (!is_word_byte(c)) {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    std::size_t end = i;
    bool has_digit = false, all_hex = true;
    for (; end < s.size() && is_word_byte(static_cast<unsigned char>(s[end])); ++end) {
      has_digit |= is_digit(static_cast<unsigned char>(s[end]));
      all_hex &= is_hex(static_cast<unsigned char>(s[end]));
    }
    if (!has_digit) {
      out.append(s.data() + i, end - i);
    } else if (all_hex) {
      out += "<*>";
    } else {
      for (std::size_t k = i; k < end;) {
        if (!is_digit(static_cast<unsigned char>(s[k]))) {
          out.push_back(s[k++]);
          continue;
        }
        while (k < end && is_digit(static_cast<unsigned char>(s[k]))) ++k;
        out += "<*>";
      }
    }
    i = end;
  }
}

namespace {

// The seed a line's source gives its key. Streams come in runs of one source, so the last one is kept.
std::uint64_t source_seed(std::string_view source, std::uint64_t mode_seed) {
  thread_local std::string last_source;
  thread_local std::uint64_t last_mode = 0, last_seed = 0;
  if (last_mode != mode_seed || source != last_source) {
    last_source.assign(source);
    last_mode = mode_seed;
    last_seed = XXH3_64bits_withSeed(source.data(), source.size(), mode_seed);
  }
  return last_seed;
}

}  // namespace

Key exact_key(std::string_view message, std::string_view source) {
  const XXH128_hash_t h = XXH3_128bits_withSeed(message.data(), message.size(), source_seed(source, kExactSeed));
  return {h.low64, h.high64};
}

Key template_key(std::string_view message, std::string_view source, std::string& scratch) {
  scratch.clear();
  append_template(message, scratch);
  const XXH128_hash_t h = XXH3_128bits_withSeed(scratch.data(), scratch.size(), source_seed(source, kTemplateSeed));
  return {h.low64, h.high64};
}

}  // namespace cache

std::string message_template(std::string_view message) {
  std::string out;
  cache::append_template(message, out);
  return out;
}

namespace {

constexpr std::size_t kShards = 16;  // a power of two

// The key -> slot index of a shard: open addressing with linear probing in a power-of-two table at most
// half full, so a lookup reads one or two cache lines (std::unordered_map chases a pointer per bucket and
// divides by a prime; it made lookups the largest cost of a cached stream). Deletion shifts the following
// entries back instead of leaving tombstones, so probe lengths stay short under constant eviction.
// The table starts small and doubles as entries arrive, so a cache far larger than the stream's working
// set costs no more memory, and no more cache misses, than that working set.
class SlotIndex {
 public:
  SlotIndex() { resize(16); }

  std::uint32_t find(const cache::Key& key) const {
    for (std::size_t i = home(key);; i = (i + 1) & mask_) {
      const Entry& e = entries_[i];
      if (e.slot == kEmpty || e.key == key) return e.slot;
    }
  }
  void insert(const cache::Key& key, std::uint32_t slot) {
    if (2 * (size_ + 1) > entries_.size()) resize(2 * entries_.size());
    std::size_t i = home(key);
    while (entries_[i].slot != kEmpty) i = (i + 1) & mask_;
    entries_[i] = {key, slot};
    ++size_;
  }
  void erase(const cache::Key& key) {
    std::size_t i = home(key);
    while (!(entries_[i].key == key) || entries_[i].slot == kEmpty) {
      if (entries_[i].slot == kEmpty) return;
      i = (i + 1) & mask_;
    }
    // Backward shift: move later entries of the run into the hole when their home allows it.
    for (std::size_t j = (i + 1) & mask_;; j = (j + 1) & mask_) {
      if (entries_[j].slot == kEmpty) break;
      const std::size_t h = home(entries_[j].key);
      // entries_[j] may move to i when i lies cyclically in [h, j).
      if (((j - h) & mask_) >= ((j - i) & mask_)) {
        entries_[i] = entries_[j];
        i = j;
      }
    }
    entries_[i].slot = kEmpty;
    --size_;
  }
  void clear() {
    for (Entry& e : entries_) e.slot = kEmpty;
    size_ = 0;
  }
  std::size_t size() const { return size_; }

  static constexpr std::uint32_t kEmpty = UINT32_MAX;

 private:
  struct Entry {
    cache::Key key;
    std::uint32_t slot = kEmpty;
  };
  std::size_t home(const cache::Key& key) const { return static_cast<std::size_t>(key.low) & mask_; }
  void resize(std::size_t size) {
    std::vector<Entry> old(size);
    old.swap(entries_);
    mask_ = size - 1;
    for (const Entry& e : old) {
      if (e.slot == kEmpty) continue;
      std::size_t i = home(e.key);
      while (entries_[i].slot != kEmpty) i = (i + 1) & mask_;
      entries_[i] = e;
    }
  }

  std::vector<Entry> entries_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

}  // namespace

// One lock per shard, so threads looking up different lines rarely wait for each other.
struct alignas(64) cache::Store::Shard {
  struct Slot {
    cache::Key key;
    Prediction value;
    bool referenced = false;
  };

  explicit Shard(std::size_t capacity) : capacity(capacity) {}

  std::mutex mutex;
  std::size_t capacity;
  std::vector<Slot> slots;
  SlotIndex index;
  std::size_t hand = 0;  // CLOCK: the next slot considered for eviction
  std::uint64_t lookups = 0, hits = 0;
  std::uint64_t owner = 0;  // whose results the slots hold
};

cache::Store::Store(CacheOptions options)
    : mode(options.mode), capacity(options.capacity), template_min_confidence(options.template_min_confidence) {
  if (mode == CacheMode::off) return;
  if (capacity == 0) throw Error("the cache size must be at least 1");
  if (capacity > (std::size_t{1} << 30)) throw Error("the cache size must be at most 1073741824 entries");
  std::size_t shards = kShards;
  while (shards > capacity) shards /= 2;
  for (std::size_t s = 0; s < shards; ++s)
    shards_.push_back(std::make_unique<Shard>(capacity / shards + (s < capacity % shards ? 1 : 0)));
}

cache::Store::~Store() = default;

cache::Store::Shard& cache::Store::shard(const cache::Key& key) {
  return *shards_[static_cast<std::size_t>(key.high) & (shards_.size() - 1)];
}

void cache::Store::bind(std::uint64_t owner) {
  if (owner_.load(std::memory_order_acquire) == owner) return;
  std::lock_guard lock(owner_mutex_);
  if (owner_.load(std::memory_order_relaxed) == owner) return;
  for (const auto& s : shards_) {
    std::lock_guard shard_lock(s->mutex);
    adopt_locked(*s, owner);
  }
  owner_.store(owner, std::memory_order_release);
}

void cache::Store::adopt_locked(Shard& s, std::uint64_t owner) {
  if (s.owner == owner) return;
  s.slots.clear();
  s.index.clear();
  s.hand = 0;
  s.owner = owner;
}

namespace {

// Visits `keys` shard by shard (`visit(shard, i)` for each i), so that a batch takes each shard's lock
// once instead of once per line: with every worker looking up lines all over the cache, each lock taken
// moves its cache line from the other core.
template <typename Shards, typename Visit>
void by_shard(const Shards& shards, std::span<const cache::Key> keys, Visit&& visit) {
  thread_local std::vector<std::uint32_t> order, start;
  const std::size_t n = shards.size();
  start.assign(n + 1, 0);
  for (const cache::Key& k : keys) ++start[(static_cast<std::size_t>(k.high) & (n - 1)) + 1];
  for (std::size_t s = 0; s < n; ++s) start[s + 1] += start[s];
  order.resize(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i)
    order[start[static_cast<std::size_t>(keys[i].high) & (n - 1)]++] = static_cast<std::uint32_t>(i);
  // start[s] is now the end of shard s's run.
  for (std::size_t s = 0, begin = 0; s < n; begin = start[s], ++s) {
    if (begin == start[s]) continue;
    auto& shard = *shards[s];
    std::lock_guard lock(shard.mutex);
    for (std::size_t k = begin; k < start[s]; ++k) visit(shard, order[k]);
  }
}

}  // namespace

void cache::Store::lookup_many(std::uint64_t owner, std::span<const cache::Key> keys,
                                     std::span<Prediction> out, std::vector<char>& found, bool with_distribution,
                                     bool count_lookups) {
  found.assign(keys.size(), 0);
  by_shard(shards_, keys, [&](Shard& s, std::size_t i) {
    found[i] = lookup_locked(s, owner, keys[i], out[i], with_distribution, count_lookups);
  });
}

void cache::Store::insert_many(std::uint64_t owner, std::span<const cache::Key> keys,
                                     std::span<const Prediction* const> values) {
  by_shard(shards_, keys, [&](Shard& s, std::size_t i) { insert_locked(s, owner, keys[i], *values[i]); });
}

bool cache::Store::lookup(std::uint64_t owner, const cache::Key& key, Prediction& out, bool with_distribution) {
  Shard& s = shard(key);
  std::lock_guard lock(s.mutex);
  return lookup_locked(s, owner, key, out, with_distribution);
}

void cache::Store::insert(std::uint64_t owner, const cache::Key& key, const Prediction& value) {
  Shard& s = shard(key);
  std::lock_guard lock(s.mutex);
  insert_locked(s, owner, key, value);
}

bool cache::Store::lookup_locked(Shard& s, std::uint64_t owner, const cache::Key& key, Prediction& out,
                                       bool with_distribution, bool count_lookup) {
  adopt_locked(s, owner);
  if (count_lookup) ++s.lookups;
  const std::uint32_t found = s.index.find(key);
  if (found == SlotIndex::kEmpty) return false;
  Shard::Slot& slot = s.slots[found];
  if (with_distribution && slot.value.stage != Stage::rule && slot.value.probabilities.empty()) return false;
  slot.referenced = true;
  ++s.hits;
  out.label = slot.value.label;
  out.stage = slot.value.stage;
  out.rule = slot.value.rule;
  out.confidence = slot.value.confidence;
  if (with_distribution) {
    out.probabilities = slot.value.probabilities;
  } else {
    out.probabilities.clear();
  }
  return true;
}

void cache::Store::insert_locked(Shard& s, std::uint64_t owner, const cache::Key& key,
                                       const Prediction& value) {
  adopt_locked(s, owner);
  if (const std::uint32_t found = s.index.find(key); found != SlotIndex::kEmpty) {
    s.slots[found].value = value;  // a richer result (with the distribution) replaces a poorer one
    return;
  }
  std::uint32_t slot;
  if (s.slots.size() < s.capacity) {
    slot = static_cast<std::uint32_t>(s.slots.size());
    s.slots.emplace_back();
  } else {
    // CLOCK: skip (and clear) referenced slots; the first unreferenced one is replaced.
    while (s.slots[s.hand].referenced) {
      s.slots[s.hand].referenced = false;
      s.hand = (s.hand + 1) % s.slots.size();
    }
    slot = static_cast<std::uint32_t>(s.hand);
    s.hand = (s.hand + 1) % s.slots.size();
    s.index.erase(s.slots[slot].key);
  }
  Shard::Slot& target = s.slots[slot];
  target.key = key;
  target.value = value;
  target.referenced = false;
  s.index.insert(key, slot);
}

void cache::Store::count_hits(std::uint64_t n) {
  if (n == 0) return;
  std::lock_guard lock(shards_[0]->mutex);
  shards_[0]->hits += n;
}

CacheStats cache::Store::stats() const {
  CacheStats out;
  for (const auto& s : shards_) {
    std::lock_guard lock(s->mutex);
    out.lookups += s->lookups;
    out.hits += s->hits;
    out.entries += s->index.size();
  }
  return out;
}

void cache::Store::clear() {
  for (const auto& s : shards_) {
    std::lock_guard lock(s->mutex);
    s->slots.clear();
    s->index.clear();
    s->hand = 0;
  }
}

MessageCache::MessageCache(CacheOptions options) : impl_(std::make_unique<cache::Store>(options)) {}
MessageCache::~MessageCache() = default;
CacheMode MessageCache::mode() const { return impl_->mode; }
std::size_t MessageCache::capacity() const { return impl_->capacity; }
CacheStats MessageCache::stats() const { return impl_->stats(); }
void MessageCache::clear() { impl_->clear(); }

}  // namespace logclf
