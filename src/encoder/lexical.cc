#include "encoder/lexical.h"

#include <xxhash.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "logclf/types.h"
#include "util/ascii.h"

namespace logclf::encoder {
namespace {

// Distinct hash seeds keep a word, a bigram and a character n-gram with equal bytes apart.
constexpr std::uint64_t kWordSeed = 0x6c6f67636c66'0001ULL;
constexpr std::uint64_t kBigramSeed = 0x6c6f67636c66'0002ULL;
constexpr std::uint64_t kCharSeed = 0x6c6f67636c66'0003ULL;
// Only the first bytes of a message and of a word shape its features: bounds the cost of pathological
// input (a megabyte-long line, a base64 blob) without changing anything for real log lines.
constexpr std::size_t kMaxTextBytes = 8192;
constexpr std::size_t kMaxCharGramWord = 40;
constexpr char kVocabularyMagic[8] = {'L', 'C', 'L', 'X', 'V', 'O', 'C', '1'};

using util::is_word_byte;

// Identifiers carry no meaning for the label but would otherwise each become a feature seen once:
// numbers become <num>, long hex ids (request ids, UUID parts) <hex>, and digit runs inside words are
// folded to one '0' (User265 -> user0, ipv4 -> ipv0). The template cache masks more coarsely, on purpose
// (message_template() in logclf/cache.h says why).
void normalise_word(std::string& word) {
  bool has_digit = false, all_digit = true, all_hex = true;
  for (unsigned char c : word) {
    const bool digit = c >= '0' && c <= '9';
    has_digit |= digit;
    all_digit &= digit;
    all_hex &= digit || (c >= 'a' && c <= 'f');
  }
  if (!has_digit) return;
  if (all_digit) {
    word = "<num>";
    return;
  }
  if (all_hex && word.size() >= 8) {
    word = "<hex>";
    return;
  }
  std::size_t out = 0;
  bool previous_digit = false;
  for (const char c : word) {  // in place: out never passes the read position
    const bool digit = c >= '0' && c <= '9';
    if (!digit) word[out++] = c;
    else if (!previous_digit) word[out++] = '0';
    previous_digit = digit;
  }
  word.resize(out);
}

template <typename T>
void append_pod(std::string& out, const T& value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof value);
}

}  // namespace

void LexicalEncoder::extract(std::string_view text, std::vector<RawFeature>& out) const {
  out.clear();
  if (text.size() > kMaxTextBytes) text = text.substr(0, kMaxTextBytes);
  thread_local std::vector<std::string> words;
  thread_local std::string buffer;
  std::size_t count = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && !is_word_byte(static_cast<unsigned char>(text[i]))) ++i;
    if (i >= text.size()) break;
    const std::size_t start = i;
    while (i < text.size() && is_word_byte(static_cast<unsigned char>(text[i]))) ++i;
    if (count == words.size()) words.emplace_back();
    std::string& word = words[count++];
    word.assign(text.data() + start, i - start);
    for (char& c : word)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    normalise_word(word);
  }

  for (std::size_t w = 0; w < count; ++w) {
    const std::string& word = words[w];
    out.push_back({XXH3_64bits_withSeed(word.data(), word.size(), kWordSeed), 0});
    if (options_.word_bigrams && w + 1 < count) {
      buffer.assign(word);
      buffer.push_back(' ');
      buffer.append(words[w + 1]);
      out.push_back({XXH3_64bits_withSeed(buffer.data(), buffer.size(), kBigramSeed), 0});
    }
    if (word.front() == '<') continue;  // placeholders have no spelling to learn from
    buffer.assign("<");
    buffer.append(word, 0, std::min(word.size(), kMaxCharGramWord));
    buffer.push_back('>');
    for (int n = options_.char_min; n <= options_.char_max; ++n) {
      const auto len = static_cast<std::size_t>(n);
      if (buffer.size() < len) break;
      for (std::size_t s = 0; s + len <= buffer.size(); ++s)
        out.push_back({XXH3_64bits_withSeed(buffer.data() + s, len, kCharSeed), 1});
    }
  }
}

LexicalEncoder LexicalEncoder::fit(std::span<const std::string_view> texts, const LexicalOptions& options) {
  if (options.char_min < 1 || options.char_max < options.char_min || options.char_max > 16)
    throw Error("lexical encoder: invalid character n-gram range");
  LexicalEncoder encoder;
  encoder.options_ = options;
  encoder.documents_ = texts.size();

  // Document frequency of every feature: sort each message's features, count each once.
  std::vector<RawFeature> raw;
  std::vector<std::pair<std::uint64_t, std::uint8_t>> all;
  for (std::string_view text : texts) {
    encoder.extract(text, raw);
    std::sort(raw.begin(), raw.end(), [](const RawFeature& a, const RawFeature& b) { return a.hash < b.hash; });
    for (std::size_t i = 0; i < raw.size(); ++i)
      if (i == 0 || raw[i].hash != raw[i - 1].hash) all.emplace_back(raw[i].hash, raw[i].group);
  }
  std::sort(all.begin(), all.end());
  const double n = static_cast<double>(texts.size());
  for (std::size_t i = 0; i < all.size();) {
    std::size_t j = i;
    while (j < all.size() && all[j].first == all[i].first) ++j;
    const auto df = static_cast<double>(j - i);
    if (df >= options.min_df) {
      encoder.hashes_.push_back(all[i].first);
      encoder.group_.push_back(all[i].second);
      // scikit-learn's smooth idf, so weights are familiar to anyone who has used TfidfVectorizer.
      encoder.idf_.push_back(static_cast<float>(std::log((1.0 + n) / (1.0 + df)) + 1.0));
    }
    i = j;
  }
  encoder.build_index();
  return encoder;
}

void LexicalEncoder::build_index() {
  std::size_t capacity = 16;
  while (capacity < 2 * hashes_.size()) capacity *= 2;
  table_keys_.assign(capacity, 0);
  table_values_.assign(capacity, 0);
  const std::size_t mask = capacity - 1;
  for (std::size_t i = 0; i < hashes_.size(); ++i) {
    std::size_t pos = hashes_[i] & mask;
    while (table_values_[pos] != 0) pos = (pos + 1) & mask;
    table_keys_[pos] = hashes_[i];
    table_values_[pos] = static_cast<std::uint32_t>(i + 1);
  }
}

std::int64_t LexicalEncoder::lookup(std::uint64_t hash) const {
  const std::size_t mask = table_keys_.size() - 1;
  for (std::size_t pos = hash & mask;; pos = (pos + 1) & mask) {
    const std::uint32_t value = table_values_[pos];
    if (value == 0) return -1;
    if (table_keys_[pos] == hash) return static_cast<std::int64_t>(value) - 1;
  }
}

void LexicalEncoder::encode(std::string_view text, Features& out) const {
  thread_local std::vector<RawFeature> raw;
  thread_local std::vector<std::uint32_t> ids;
  out.clear();
  extract(text, raw);
  ids.clear();
  for (const RawFeature& f : raw) {
    const std::int64_t id = lookup(f.hash);
    if (id >= 0) ids.push_back(static_cast<std::uint32_t>(id));
  }
  std::sort(ids.begin(), ids.end());
  double norm2[2] = {0.0, 0.0};
  for (std::size_t i = 0; i < ids.size();) {
    std::size_t j = i;
    while (j < ids.size() && ids[j] == ids[i]) ++j;
    const float tf = 1.0f + std::log(static_cast<float>(j - i));  // sublinear tf
    const float v = tf * idf_[ids[i]];
    out.index.push_back(ids[i]);
    out.value.push_back(v);
    norm2[group_[ids[i]]] += static_cast<double>(v) * v;
    i = j;
  }
  // Words and character n-grams are normalised separately and weighted equally, so the many n-grams
  // of a message do not drown its few words; the result has L2 norm options_.norm.
  const int groups = (norm2[0] > 0) + (norm2[1] > 0);
  if (groups == 0) return;
  float scale[2];
  for (int g = 0; g < 2; ++g)
    scale[g] = norm2[g] > 0 ? static_cast<float>(options_.norm / std::sqrt(norm2[g] * groups)) : 0.0f;
  for (std::size_t k = 0; k < out.index.size(); ++k) out.value[k] *= scale[group_[out.index[k]]];
}

nlohmann::json LexicalEncoder::params() const {
  return {{"char_min", options_.char_min},   {"char_max", options_.char_max},
          {"word_bigrams", options_.word_bigrams}, {"min_df", options_.min_df}, {"norm", options_.norm},
          {"documents", documents_},         {"features", hashes_.size()}};
}

std::string LexicalEncoder::vocabulary() const {
  std::string out(kVocabularyMagic, sizeof kVocabularyMagic);
  append_pod(out, static_cast<std::uint64_t>(hashes_.size()));
  for (std::uint64_t h : hashes_) append_pod(out, h);
  for (float v : idf_) append_pod(out, v);
  out.append(reinterpret_cast<const char*>(group_.data()), group_.size());
  return out;
}

std::optional<std::uint64_t> LexicalEncoder::vocabulary_size(std::uint64_t features) {
  if (features > (std::uint64_t{1} << 32)) return std::nullopt;
  return sizeof kVocabularyMagic + sizeof(std::uint64_t) + features * 13;
}

LexicalEncoder LexicalEncoder::load(const nlohmann::json& params, std::string_view vocabulary,
                                    const std::string& name) {
  LexicalEncoder encoder;
  try {
    encoder.options_.char_min = params.at("char_min").get<int>();
    encoder.options_.char_max = params.at("char_max").get<int>();
    encoder.options_.word_bigrams = params.at("word_bigrams").get<bool>();
    encoder.options_.min_df = params.at("min_df").get<int>();
    encoder.options_.norm = params.at("norm").get<float>();
    encoder.documents_ = params.at("documents").get<std::uint64_t>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(name + ": invalid lexical encoder parameters: " + e.what());
  }
  if (encoder.options_.char_min < 1 || encoder.options_.char_max < encoder.options_.char_min ||
      encoder.options_.char_max > 16)
    throw Error(name + ": invalid character n-gram range");
  if (!(encoder.options_.norm > 0.0f) || !std::isfinite(encoder.options_.norm))
    throw Error(name + ": invalid vector norm");
  const std::size_t header = sizeof kVocabularyMagic + sizeof(std::uint64_t);
  if (vocabulary.size() < header || std::memcmp(vocabulary.data(), kVocabularyMagic, 8) != 0)
    throw Error(name + ": not a logclf lexical vocabulary file");
  std::uint64_t count = 0;
  std::memcpy(&count, vocabulary.data() + 8, sizeof count);
  if (const auto expected = vocabulary_size(count); !expected || vocabulary.size() != *expected)
    throw Error(name + ": vocabulary file is truncated or has the wrong size");
  encoder.hashes_.resize(count);
  encoder.idf_.resize(count);
  encoder.group_.resize(count);
  const char* p = vocabulary.data() + header;
  std::memcpy(encoder.hashes_.data(), p, count * 8);
  std::memcpy(encoder.idf_.data(), p + count * 8, count * 4);
  std::memcpy(encoder.group_.data(), p + count * 12, count);
  for (std::size_t i = 0; i < count; ++i) {
    if (encoder.group_[i] > 1 || !(encoder.idf_[i] > 0.0f) || !std::isfinite(encoder.idf_[i]) ||
        (i > 0 && encoder.hashes_[i] <= encoder.hashes_[i - 1]))
      throw Error(name + ": vocabulary file is corrupt (entry " + std::to_string(i) + ")");
  }
  if (params.contains("features") && params["features"] != count)
    throw Error(name + ": vocabulary has " + std::to_string(count) + " features, parameters say " +
                params["features"].dump());
  encoder.build_index();
  return encoder;
}

}  // namespace logclf::encoder
