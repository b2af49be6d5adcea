#include "encoder/e5/wordpiece.h"

#include <utf8proc.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "io/regular_file.h"
#include "logclf/types.h"

namespace logclf::encoder::e5 {
namespace {

constexpr std::string_view kContinuation = "##";
constexpr std::size_t kMaxInputCharsPerWord = 100;  // BERT's max_input_chars_per_word

// A byte trie of vocabulary pieces in flat arrays. Greedy WordPiece wants the longest piece starting at a
// position: one walk down the trie finds it, where a hash map needs a lookup (and a hash) per candidate
// length; on log lines full of hex ids that was most of the time. (libdatrie would do, but it works on
// 32-bit character alphabets and would add a dependency for these few lines.)
class PieceTrie {
 public:
  // Keys must be inserted in lexicographic byte order, so that every node's edges come out sorted.
  void insert(std::string_view key, std::int32_t id) {
    std::uint32_t node = 0;
    for (const char ch : key) {
      const auto byte = static_cast<unsigned char>(ch);
      auto& edges = building_[node];
      if (edges.empty() || edges.back().first != byte) {
        edges.emplace_back(byte, static_cast<std::uint32_t>(building_.size()));
        building_.emplace_back();
        ids_.push_back(-1);
      }
      node = building_[node].back().second;
    }
    ids_[node] = id;  // a repeated token keeps its last id, as HF's loaders do
  }

  // Moves the edges into flat arrays; no insert after this.
  void freeze() {
    first_edge_.reserve(building_.size() + 1);
    for (const auto& edges : building_) {
      first_edge_.push_back(static_cast<std::uint32_t>(edge_bytes_.size()));
      for (const auto& [byte, child] : edges) {
        edge_bytes_.push_back(byte);
        edge_child_.push_back(child);
      }
    }
    first_edge_.push_back(static_cast<std::uint32_t>(edge_bytes_.size()));
    building_ = {};
  }

  // The longest key that `text` starts with: {length, id}, or {0, -1} when none.
  std::pair<std::size_t, std::int32_t> longest_prefix(std::string_view text) const {
    std::pair<std::size_t, std::int32_t> best{0, -1};
    std::uint32_t node = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
      const auto* begin = edge_bytes_.data() + first_edge_[node];
      const auto* end = edge_bytes_.data() + first_edge_[node + 1];
      const auto* edge = std::lower_bound(begin, end, static_cast<unsigned char>(text[i]));
      if (edge == end || *edge != static_cast<unsigned char>(text[i])) break;
      node = edge_child_[static_cast<std::size_t>(edge - edge_bytes_.data())];
      if (ids_[node] >= 0) best = {i + 1, ids_[node]};
    }
    return best;
  }

  std::int32_t find(std::string_view key) const {
    const auto [length, id] = longest_prefix(key);
    return length == key.size() ? id : -1;
  }

 private:
  std::vector<std::vector<std::pair<unsigned char, std::uint32_t>>> building_{1};
  std::vector<std::int32_t> ids_{-1};  // per node: the id of the key ending there, or -1
  std::vector<std::uint32_t> first_edge_;
  std::vector<unsigned char> edge_bytes_;
  std::vector<std::uint32_t> edge_child_;
};

struct SpecialToken {
  std::string content;
  std::int32_t id;
};

}  // namespace

struct WordPieceTokenizer::Vocab {
  std::vector<std::string> tokens;  // id -> token
  PieceTrie word_start;             // every token
  PieceTrie continuation;           // "##xyz" tokens, keyed by "xyz"
  std::vector<SpecialToken> specials;  // cut out of the raw text before normalisation
  std::array<bool, 256> special_first_byte{};
  bool lowercase = true;
  std::int32_t cls = -1, sep = -1, pad = -1, unk = -1;
};

namespace {

using Vocab = WordPieceTokenizer::Vocab;

// --- character classes -------------------------------------------------------------------------------

// The ASCII fast path's classes. Punctuation is every non-alphanumeric printable character, as in HF's
// _is_punctuation; control characters other than \t \n \r (\v and \f included) are dropped, not spaces,
// because HF tests for control before whitespace.
enum class Ascii : std::uint8_t { drop, space, punct, word };
constexpr std::array<Ascii, 128> kAscii = [] {
  std::array<Ascii, 128> table{};
  for (int c = 0; c < 128; ++c) {
    if (c < 32 || c == 127) table[c] = Ascii::drop;
    else if (c == ' ') table[c] = Ascii::space;
    else if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126))
      table[c] = Ascii::punct;
    else table[c] = Ascii::word;
  }
  table['\t'] = table['\n'] = table['\r'] = Ascii::space;
  return table;
}();

utf8proc_category_t category(std::int32_t c) { return static_cast<utf8proc_category_t>(utf8proc_category(c)); }

// HF's whitespace (Rust char::is_whitespace, the JS \s class): the White_Space property less the Cc
// characters (\v, \f, U+0085, U+001C..U+001F), which the control test has already dropped.
bool is_whitespace(std::int32_t c) {
  if (c < 128) return kAscii[c] == Ascii::space;
  const auto cat = category(c);
  return cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_ZL || cat == UTF8PROC_CATEGORY_ZP;
}

// HF drops "control" characters: categories Cc, Cf and Co (tokenizers' is_other, tokenizers.js's
// \p{Cc}|\p{Cf}|\p{Co}|\p{Cs}); unassigned code points (Cn) are kept, as both keep them. Surrogates cannot
// come out of valid UTF-8.
bool is_control(std::int32_t c) {
  if (c < 128) return kAscii[c] == Ascii::drop;
  const auto cat = category(c);
  return cat == UTF8PROC_CATEGORY_CC || cat == UTF8PROC_CATEGORY_CF || cat == UTF8PROC_CATEGORY_CO;
}

bool is_punctuation(std::int32_t c) {
  if (c < 128) return kAscii[c] == Ascii::punct;
  const auto cat = category(c);
  return cat >= UTF8PROC_CATEGORY_PC && cat <= UTF8PROC_CATEGORY_PO;
}

// The code point ranges of HF's _is_chinese_char (CJK Unified Ideographs and their extensions A-E,
// compatibility ideographs), which is not the same as any Unicode property.
bool is_chinese(std::int32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

// Unicode's Case_Ignorable and Cased properties for the Final_Sigma rule. utf8proc has neither, so they
// are built from categories, case mappings and the short Word_Break lists the definitions name.
bool is_case_ignorable(std::int32_t c) {
  switch (c) {
    case '\'': case '.': case ':': case 0x00B7: case 0x0387: case 0x055F: case 0x05F4: case 0x2018:
    case 0x2019: case 0x2024: case 0x2027: case 0xFE13: case 0xFE52: case 0xFE55: case 0xFF07: case 0xFF0E:
    case 0xFF1A:
      return true;
    default:
      break;
  }
  const auto cat = category(c);
  return cat == UTF8PROC_CATEGORY_MN || cat == UTF8PROC_CATEGORY_ME || cat == UTF8PROC_CATEGORY_CF ||
         cat == UTF8PROC_CATEGORY_LM || cat == UTF8PROC_CATEGORY_SK;
}

bool is_cased(std::int32_t c) {
  const auto cat = category(c);
  if (cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LL || cat == UTF8PROC_CATEGORY_LT) return true;
  // Other_Lowercase / Other_Uppercase letters and symbols (ª, º, Ⅰ, ⓐ, 🄰...).
  return c == 0x00AA || c == 0x00BA || (c >= 0x1F130 && c <= 0x1F149) || (c >= 0x1F150 && c <= 0x1F169) ||
         (c >= 0x1F170 && c <= 0x1F189) || utf8proc_tolower(c) != c || utf8proc_toupper(c) != c;
}

// Σ lowercases to final ς after a cased letter unless another cased letter follows (case-ignorable
// characters skipped both ways): the context rule of full lowercasing that Python's str.lower() and
// JavaScript's toLowerCase() apply (tokenizers.js, which made the golden file, uses the latter).
bool is_final_sigma(const std::vector<std::int32_t>& text, std::size_t i) {
  std::size_t j = i;
  while (j > 0 && is_case_ignorable(text[j - 1])) --j;
  if (j == 0 || !is_cased(text[j - 1])) return false;
  j = i + 1;
  while (j < text.size() && is_case_ignorable(text[j])) ++j;
  return j == text.size() || !is_cased(text[j]);
}

// utf8proc's simple lowercase mapping plus the context rule above. The one other full mapping, İ -> i̇,
// differs only by a combining dot (Mn) that accent stripping removes anyway.
std::int32_t to_lower(const std::vector<std::int32_t>& text, std::size_t i) {
  const std::int32_t c = text[i];
  if (c == 0x03A3) return is_final_sigma(text, i) ? 0x03C2 : 0x03C3;
  return utf8proc_tolower(c);
}

void append_utf8(std::string& out, std::int32_t c) {
  utf8proc_uint8_t buffer[4];
  out.append(reinterpret_cast<const char*>(buffer), utf8proc_encode_char(c, buffer));
}

// --- encoding ----------------------------------------------------------------------------------------

// Per-thread buffers: encode is const and may run on many threads; after warm-up it allocates nothing.
struct Scratch {
  std::string word;                   // the current word, UTF-8 (its first kMaxInputCharsPerWord characters)
  std::vector<std::int32_t> cleaned;  // a non-ASCII section after cleaning
  std::string lowered;                // ... lowercased, UTF-8 for utf8proc_decompose
  std::vector<std::int32_t> decomposed;

  // A huge line should not pin its buffers to the thread for good.
  void release_if_huge() {
    constexpr std::size_t kKeep = std::size_t{1} << 20;
    if (cleaned.capacity() > kKeep) cleaned = {};
    if (lowered.capacity() > kKeep) lowered = {};
    if (decomposed.capacity() > kKeep) decomposed = {};
  }
};

class Encoder {
 public:
  Encoder(const Vocab& vocab, std::vector<std::int32_t>& ids, std::size_t limit)
      : vocab_(vocab), ids_(ids), limit_(limit), scratch_(scratch()) {}

  bool full() const { return ids_.size() >= limit_; }
  void push(std::int32_t id) { ids_.push_back(id); }

  void section(std::string_view text) {
    bool ascii = true;
    for (const char c : text) ascii &= static_cast<unsigned char>(c) < 0x80;
    if (ascii) ascii_section(text);
    else unicode_section(text);
  }

 private:
  static Scratch& scratch() {
    thread_local Scratch instance;
    return instance;
  }

  void ascii_section(std::string_view text) {
    word_.clear();
    chars_ = 0;
    for (const char ch : text) {
      const auto c = static_cast<unsigned char>(ch);
      switch (kAscii[c]) {
        case Ascii::drop:
          break;
        case Ascii::space:
          flush();
          break;
        case Ascii::punct:
          flush();
          word_.push_back(ch);
          chars_ = 1;
          flush();
          break;
        case Ascii::word:
          if (++chars_ <= kMaxInputCharsPerWord)
            word_.push_back(vocab_.lowercase && c >= 'A' && c <= 'Z' ? char(c + ('a' - 'A')) : ch);
          break;
      }
      if (full()) return;
    }
    flush();
  }

  void unicode_section(std::string_view text) {
    auto& cleaned = scratch_.cleaned;
    cleaned.clear();
    const auto* bytes = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
    for (std::size_t i = 0; i < text.size();) {
      std::int32_t c;
      const auto n = utf8proc_iterate(bytes + i, static_cast<utf8proc_ssize_t>(text.size() - i), &c);
      if (n <= 0) {  // an invalid byte reads as U+FFFD, which cleaning drops; resume at the next byte
        ++i;
        continue;
      }
      i += static_cast<std::size_t>(n);
      if (c == 0 || c == 0xFFFD || is_control(c)) continue;
      if (is_whitespace(c)) {
        cleaned.push_back(' ');
      } else if (is_chinese(c)) {
        cleaned.insert(cleaned.end(), {' ', c, ' '});
      } else {
        cleaned.push_back(c);
      }
    }
    const std::vector<std::int32_t>* normalized = &cleaned;
    if (vocab_.lowercase) {  // strip_accents is null in the config: it follows lowercase
      auto& lowered = scratch_.lowered;
      lowered.clear();
      for (std::size_t i = 0; i < cleaned.size(); ++i) append_utf8(lowered, to_lower(cleaned, i));
      auto& out = scratch_.decomposed;
      if (out.size() < lowered.size()) out.resize(lowered.size());
      for (;;) {
        const auto n = utf8proc_decompose(reinterpret_cast<const utf8proc_uint8_t*>(lowered.data()),
                                          static_cast<utf8proc_ssize_t>(lowered.size()), out.data(),
                                          static_cast<utf8proc_ssize_t>(out.size()), UTF8PROC_DECOMPOSE);
        if (n < 0) throw Error(std::string("utf8proc: ") + utf8proc_errmsg(n));  // cannot happen: valid input
        if (static_cast<std::size_t>(n) <= out.size()) {
          out.resize(static_cast<std::size_t>(n));
          break;
        }
        out.resize(static_cast<std::size_t>(n));
      }
      std::erase_if(out, [](std::int32_t c) { return category(c) == UTF8PROC_CATEGORY_MN; });
      normalized = &out;
    }
    word_.clear();
    chars_ = 0;
    for (const std::int32_t c : *normalized) {
      if (is_whitespace(c)) {
        flush();
      } else if (is_punctuation(c)) {
        flush();
        append_utf8(word_, c);
        chars_ = 1;
        flush();
      } else if (++chars_ <= kMaxInputCharsPerWord) {
        append_utf8(word_, c);
      }
      if (full()) break;
    }
    if (!full()) flush();
    scratch_.release_if_huge();
  }

  // Ends the current word: its pieces, greedy longest-match-first.
  void flush() {
    if (chars_ == 0) return;
    if (chars_ > kMaxInputCharsPerWord) push(vocab_.unk);
    else pieces(word_);
    word_.clear();
    chars_ = 0;
  }

  void pieces(std::string_view word) {
    const std::size_t first = ids_.size();
    for (std::size_t start = 0; start < word.size();) {
      // Pieces are whole UTF-8 characters, so a match never ends inside one.
      const PieceTrie& trie = start == 0 ? vocab_.word_start : vocab_.continuation;
      const auto [length, id] = trie.longest_prefix(word.substr(start));
      if (id < 0) {  // no full segmentation: the whole word is unknown
        ids_.resize(first);
        push(vocab_.unk);
        return;
      }
      push(id);
      start += length;
    }
  }

  const Vocab& vocab_;
  std::vector<std::int32_t>& ids_;
  const std::size_t limit_;
  Scratch& scratch_;
  std::string& word_ = scratch_.word;
  std::size_t chars_ = 0;  // code points in the current word (word_ stops growing past the limit)
};

// --- loading -----------------------------------------------------------------------------------------

std::optional<std::string> read_if_exists(const std::filesystem::path& path) {
  // tokenizer.json of large vocabularies runs to tens of megabytes; E5's is 0.7 MB.
  return io::read_regular_file_if_exists(path.string(), io::FileSize(std::uint64_t{64} << 20));
}

nlohmann::json parse_json(const std::string& text, const std::string& name) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw Error(name + ": invalid JSON: " + e.what());
  }
}

// Builds the tries and finds the special tokens once `tokens` is complete.
std::shared_ptr<Vocab> finish(std::shared_ptr<Vocab> v, const std::string& name,
                              std::vector<SpecialToken> specials, const std::string& unk_token) {
  if (v->tokens.empty()) throw Error(name + ": the vocabulary is empty");
  std::vector<std::int32_t> order(v->tokens.size());
  for (std::size_t id = 0; id < order.size(); ++id) order[id] = static_cast<std::int32_t>(id);
  std::stable_sort(order.begin(), order.end(), [&](std::int32_t a, std::int32_t b) {
    return v->tokens[static_cast<std::size_t>(a)] < v->tokens[static_cast<std::size_t>(b)];
  });
  for (const std::int32_t id : order) {  // equal tokens stay in id order: the last id wins
    const std::string_view token = v->tokens[static_cast<std::size_t>(id)];
    v->word_start.insert(token, id);
    if (token.starts_with(kContinuation)) v->continuation.insert(token.substr(kContinuation.size()), id);
  }
  v->word_start.freeze();
  v->continuation.freeze();
  const auto require = [&](const std::string& token) {
    const auto id = v->word_start.find(token);
    if (id < 0) throw Error(name + ": the vocabulary has no " + token + " token");
    return id;
  };
  v->cls = require("[CLS]");
  v->sep = require("[SEP]");
  v->pad = require("[PAD]");
  v->unk = require(unk_token);
  for (auto& special : specials) {
    if (special.content.empty()) throw Error(name + ": an added token is empty");
    v->special_first_byte[static_cast<unsigned char>(special.content[0])] = true;
  }
  v->specials = std::move(specials);
  return v;
}

std::shared_ptr<Vocab> vocab_from_txt(std::string_view text, const std::string& name, bool lowercase) {
  auto v = std::make_shared<Vocab>();
  v->lowercase = lowercase;
  while (!text.empty()) {
    const auto newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    if (line.ends_with('\r')) line.remove_suffix(1);
    v->tokens.emplace_back(line);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
  }
  // BertTokenizer's special tokens; as added tokens they are matched in the raw text.
  std::vector<SpecialToken> specials;
  for (const std::string_view token : {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}) {
    for (std::size_t id = v->tokens.size(); id-- > 0;) {
      if (v->tokens[id] == token) {
        specials.push_back({std::string(token), static_cast<std::int32_t>(id)});
        break;
      }
    }
  }
  return finish(std::move(v), name, std::move(specials), "[UNK]");
}

std::shared_ptr<Vocab> vocab_from_tokenizer_json(const std::string& text, const std::string& name,
                                                 std::optional<bool> lowercase) {
  const auto doc = parse_json(text, name);
  const auto field = [&](const nlohmann::json& parent, const char* key,
                         const std::string& path) -> const nlohmann::json& {
    if (!parent.is_object() || !parent.contains(key)) throw Error(name + ": missing field '" + path + "'");
    return parent.at(key);
  };
  try {
    const auto& model = field(doc, "model", "model");
    if (model.value("type", "WordPiece") != "WordPiece") throw Error(name + ": model.type is not WordPiece");
    if (model.value("continuing_subword_prefix", std::string(kContinuation)) != kContinuation)
      throw Error(name + ": model.continuing_subword_prefix other than \"##\" is not supported");
    if (model.value("max_input_chars_per_word", kMaxInputCharsPerWord) != kMaxInputCharsPerWord)
      throw Error(name + ": model.max_input_chars_per_word other than 100 is not supported");
    const auto& vocab = field(model, "vocab", "model.vocab");
    if (!vocab.is_object()) throw Error(name + ": field 'model.vocab' is not an object");
    const nlohmann::json no_added = nlohmann::json::array();
    const auto& added = doc.contains("added_tokens") ? doc.at("added_tokens") : no_added;
    if (!added.is_array()) throw Error(name + ": field 'added_tokens' is not an array");

    auto v = std::make_shared<Vocab>();
    // Ids must be exactly 0..N-1 over the vocabulary and the added tokens.
    const std::size_t most = vocab.size() + added.size();
    std::vector<bool> seen;
    const auto place = [&](const std::string& token, const nlohmann::json& id_value, const std::string& where) {
      if (!id_value.is_number_unsigned() || id_value.get<std::uint64_t>() >= most)
        throw Error(name + ": " + where + ": id is not an integer in 0.." + std::to_string(most - 1));
      const auto id = id_value.get<std::size_t>();
      if (id >= v->tokens.size()) {
        v->tokens.resize(id + 1);
        seen.resize(id + 1);
      }
      if (seen[id] && v->tokens[id] != token)
        throw Error(name + ": " + where + ": id " + std::to_string(id) + " is already another token's");
      v->tokens[id] = token;
      seen[id] = true;
      return static_cast<std::int32_t>(id);
    };
    for (const auto& [token, id] : vocab.items()) place(token, id, "model.vocab[\"" + token + "\"]");

    std::vector<SpecialToken> specials;
    for (std::size_t i = 0; i < added.size(); ++i) {
      const std::string where = "added_tokens[" + std::to_string(i) + "]";
      const auto& entry = added[i];
      const auto& content = field(entry, "content", where + ".content");
      if (!content.is_string()) throw Error(name + ": " + where + ".content is not a string");
      // Only the plain kind is implemented: matched as written, anywhere, its neighbours untouched.
      for (const char* flag : {"lstrip", "rstrip", "single_word", "normalized"}) {
        if (entry.value(flag, false)) throw Error(name + ": " + where + "." + flag + " = true is not supported");
      }
      const auto id = place(content.get<std::string>(), field(entry, "id", where + ".id"), where);
      specials.push_back({content.get<std::string>(), id});
    }
    for (std::size_t id = 0; id < seen.size(); ++id) {
      if (!seen[id]) throw Error(name + ": no token has id " + std::to_string(id));
    }
    if (!lowercase && doc.contains("normalizer") && doc.at("normalizer").is_object())
      lowercase = doc.at("normalizer").value("lowercase", true);
    v->lowercase = lowercase.value_or(true);
    return finish(std::move(v), name, std::move(specials), model.value("unk_token", std::string("[UNK]")));
  } catch (const nlohmann::json::exception& e) {  // a field of the wrong type
    throw Error(name + ": " + e.what());
  }
}

}  // namespace

WordPieceTokenizer::WordPieceTokenizer(std::shared_ptr<const Vocab> vocab) : vocab_(std::move(vocab)) {}

WordPieceTokenizer WordPieceTokenizer::from_vocab(std::string_view vocab_txt, const std::string& name,
                                                  bool lowercase) {
  return WordPieceTokenizer(vocab_from_txt(vocab_txt, name, lowercase));
}

WordPieceTokenizer WordPieceTokenizer::load(const std::string& model_dir) {
  const std::filesystem::path dir(model_dir);
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) throw Error(model_dir + ": no such model directory");
  std::optional<bool> lowercase;
  const auto config_path = (dir / "tokenizer_config.json").string();
  if (const auto config = read_if_exists(config_path)) {
    const auto doc = parse_json(*config, config_path);
    if (doc.is_object() && doc.contains("do_lower_case")) {
      if (!doc["do_lower_case"].is_boolean()) throw Error(config_path + ": field 'do_lower_case' is not a boolean");
      lowercase = doc["do_lower_case"].get<bool>();
    }
  }
  const auto vocab_path = (dir / "vocab.txt").string();
  if (const auto text = read_if_exists(vocab_path))
    return WordPieceTokenizer(vocab_from_txt(*text, vocab_path, lowercase.value_or(true)));
  const auto json_path = (dir / "tokenizer.json").string();
  if (const auto text = read_if_exists(json_path))
    return WordPieceTokenizer(vocab_from_tokenizer_json(*text, json_path, lowercase));
  throw Error(model_dir + ": has neither vocab.txt nor tokenizer.json");
}

void WordPieceTokenizer::encode(std::string_view text, std::vector<std::int32_t>& ids,
                                std::size_t max_length) const {
  if (max_length == 1) throw Error("WordPiece: max_length 1 leaves no room for [CLS] and [SEP]");
  const Vocab& v = *vocab_;
  // Room for [CLS] and the pieces; [SEP] is appended after the cut.
  const std::size_t limit = max_length == 0 ? std::numeric_limits<std::size_t>::max() : max_length - 1;
  ids.clear();
  Encoder encoder(v, ids, limit);
  encoder.push(v.cls);
  std::size_t section_start = 0;
  for (std::size_t i = 0; i < text.size() && !encoder.full();) {
    if (!v.special_first_byte[static_cast<unsigned char>(text[i])]) {
      ++i;
      continue;
    }
    const SpecialToken* match = nullptr;  // leftmost-longest, as HF's added-token splitter
    for (const auto& special : v.specials) {
      if (text.substr(i).starts_with(special.content) && (!match || special.content.size() > match->content.size()))
        match = &special;
    }
    if (!match) {
      ++i;
      continue;
    }
    encoder.section(text.substr(section_start, i - section_start));
    if (!encoder.full()) encoder.push(match->id);
    i += match->content.size();
    section_start = i;
  }
  if (!encoder.full() && section_start < text.size()) encoder.section(text.substr(section_start));
  if (ids.size() > limit) ids.resize(limit);
  ids.push_back(v.sep);
}

std::string_view WordPieceTokenizer::token(std::int32_t id) const {
  if (id < 0 || static_cast<std::size_t>(id) >= vocab_->tokens.size()) return {};
  return vocab_->tokens[static_cast<std::size_t>(id)];
}
std::size_t WordPieceTokenizer::vocab_size() const { return vocab_->tokens.size(); }
std::int32_t WordPieceTokenizer::cls_id() const { return vocab_->cls; }
std::int32_t WordPieceTokenizer::sep_id() const { return vocab_->sep; }
std::int32_t WordPieceTokenizer::pad_id() const { return vocab_->pad; }
std::int32_t WordPieceTokenizer::unk_id() const { return vocab_->unk; }

}  // namespace logclf::encoder::e5
