#include "io/json_record.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/reader_util.h"
#include "io/swar.h"

namespace logclf::io {

namespace {

using nlohmann::json;

// The keys a reader wants, each with a slot: the message field's names in order, then the source and the
// label field. A name with a dot ("log.original") is also wanted as a path into nested objects: the key
// "log.original" at the top level, or the key "original" of the object under the top-level key "log"
// (Elastic Common Schema and OpenTelemetry write both ways). Arrays are not walked into.
class Wanted {
 public:
  explicit Wanted(const ReadOptions& options) : names_(options.message_fields) {
    source_ = names_.size();
    names_.push_back(options.source_field);
    names_.push_back(options.label_field);
    for (const std::string& name : names_) {
      if (const std::size_t dot = name.find('.'); dot != name.npos) heads_.push_back(name.substr(0, dot));
    }
  }
  // The slot of `key` (the first, should a name be wanted twice), or none(). `key` is a top-level key, or
  // a path of keys joined by dots.
  std::size_t slot(std::string_view key) const {
    for (std::size_t i = 0; i < names_.size(); ++i)
      if (names_[i] == key) return i;
    return none();
  }
  // Whether some wanted name is a path.
  bool has_paths() const { return !heads_.empty(); }
  // Whether the object under the top-level `key` may hold a wanted path.
  bool path_head(std::string_view key) const {
    return std::find(heads_.begin(), heads_.end(), key) != heads_.end();
  }
  std::size_t none() const { return names_.size(); }
  std::size_t messages() const { return source_; }  // slots [0, messages()) are the message's names
  std::size_t source() const { return source_; }
  std::size_t label() const { return source_ + 1; }
  const std::string& name(std::size_t slot) const { return names_[slot]; }

 private:
  std::vector<std::string> names_;
  std::vector<std::string> heads_;  // the first key of each name with a dot
  std::size_t source_;
};

// What a line's object holds under a wanted key.
enum class Seen : uint8_t { missing, string, null, other };

// The wanted keys' values in one object, by slot; a value is meaningful only when seen as a string.
struct Found {
  explicit Found(const Wanted& wanted) : values(wanted.none()), seen(wanted.none()) {}
  void reset() { std::fill(seen.begin(), seen.end(), Seen::missing); }
  std::vector<std::string> values;
  std::vector<Seen> seen;
};

// The fast path for the usual line: a strict scanner that decodes the wanted strings and validates the
// rest without allocating. It answers false whenever it is not certain the object is valid JSON that
// nlohmann would accept (any error, \u escapes of surrogates, exponents, very long numbers, deep
// nesting); the caller then parses the line with nlohmann, which gives the same values or a precise
// error. So the fast path decides speed only, never what is accepted.
class FastScanner {
 public:
  FastScanner(const Wanted& wanted, Found& found) : wanted_(wanted), found_(found) {}

  bool scan(std::string_view text) {
    p_ = text.data();
    end_ = p_ + text.size();
    skip_space();
    if (!consume('{')) return false;
    skip_space();
    if (!consume('}')) {
      for (;;) {
        if (!consume('"')) return false;
        key_.clear();
        if (!string(&key_)) return false;
        skip_space();
        if (!consume(':')) return false;
        skip_space();
        const std::size_t slot = wanted_.slot(key_);
        // A wanted path inside this object: left to the SAX extractor, which follows keys into objects.
        if (p_ < end_ && *p_ == '{' && wanted_.has_paths() && wanted_.path_head(key_)) return false;
        if (slot != wanted_.none() && p_ < end_ && *p_ == '"') {
          ++p_;
          std::string& value = found_.values[slot];
          value.clear();
          if (!string(&value)) return false;
          found_.seen[slot] = Seen::string;
        } else {
          const bool null = end_ - p_ >= 4 && std::memcmp(p_, "null", 4) == 0;
          if (!value()) return false;
          if (slot != wanted_.none()) found_.seen[slot] = null ? Seen::null : Seen::other;
        }
        skip_space();
        if (consume('}')) break;
        if (!consume(',')) return false;
        skip_space();
      }
    }
    skip_space();
    return p_ == end_;
  }

 private:
  static constexpr int kMaxDepth = 32;

  bool consume(char c) {
    if (p_ == end_ || *p_ != c) return false;
    ++p_;
    return true;
  }
  void skip_space() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }

  // After the opening quote; appends the decoded text to `out` when given. Leaves p_ past the closing quote.
  bool string(std::string* out) {
    for (;;) {
      const char* run = p_;
      p_ = swar::find_json_special(p_, end_);
      if (p_ == end_) return false;
      if (out) out->append(run, p_);
      const char c = *p_++;
      if (c == '"') return true;
      if (c != '\\' || p_ == end_) return false;  // a raw control character, or a cut escape
      const char e = *p_++;
      char decoded;
      switch (e) {
        case '"': case '\\': case '/': decoded = e; break;
        case 'b': decoded = '\b'; break;
        case 'f': decoded = '\f'; break;
        case 'n': decoded = '\n'; break;
        case 'r': decoded = '\r'; break;
        case 't': decoded = '\t'; break;
        case 'u':
          if (!unicode_escape(out)) return false;
          continue;
        default: return false;
      }
      if (out) out->push_back(decoded);
    }
  }

  // After "\u": four hex digits of a code point outside the surrogates, appended as UTF-8.
  bool unicode_escape(std::string* out) {
    if (end_ - p_ < 4) return false;
    unsigned cp = 0;
    for (int i = 0; i < 4; ++i) {
      const char h = *p_++;
      const int digit = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
      if (digit < 0) return false;
      cp = cp << 4 | static_cast<unsigned>(digit);
    }
    if (cp >= 0xD800 && cp <= 0xDFFF) return false;  // pairs and their errors are left to nlohmann
    if (!out) return true;
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xC0 | cp >> 6));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xE0 | cp >> 12));
      out->push_back(static_cast<char>(0x80 | (cp >> 6 & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
    return true;
  }

  // Without an exponent and short, so that nlohmann cannot find it out of range.
  bool number() {
    const char* start = p_;
    consume('-');
    if (consume('0')) {
    } else if (p_ < end_ && *p_ >= '1' && *p_ <= '9') {
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    } else {
      return false;
    }
    if (consume('.')) {
      if (p_ == end_ || *p_ < '0' || *p_ > '9') return false;
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    }
    return p_ - start <= 100;
  }

  bool literal(const char* word, std::size_t length) {
    if (static_cast<std::size_t>(end_ - p_) < length || std::memcmp(p_, word, length) != 0) return false;
    p_ += length;
    return true;
  }

  // Validates one value of any kind, containers included (iteratively, up to kMaxDepth).
  bool value() {
    bool in_array[kMaxDepth];
    int depth = 0;
    for (;;) {
      // At the start of a value.
      skip_space();
      if (p_ == end_) return false;
      const char c = *p_;
      bool done;
      if (c == '{' || c == '[') {
        if (depth == kMaxDepth) return false;
        ++p_;
        skip_space();
        if (consume(c == '{' ? '}' : ']')) {
          done = true;
        } else {
          in_array[depth++] = c == '[';
          if (c == '{' && !member_key()) return false;
          continue;
        }
      } else if (c == '"') {
        ++p_;
        done = string(nullptr);
      } else if (c == 't') {
        done = literal("true", 4);
      } else if (c == 'f') {
        done = literal("false", 5);
      } else if (c == 'n') {
        done = literal("null", 4);
      } else {
        done = number();
      }
      if (!done) return false;
      // After a value: close containers until one continues with another element.
      for (;;) {
        if (depth == 0) return true;
        skip_space();
        const bool array = in_array[depth - 1];
        if (consume(array ? ']' : '}')) {
          --depth;
          continue;
        }
        if (!consume(',')) return false;
        if (!array) {
          skip_space();
          if (!member_key()) return false;
        }
        break;
      }
    }
  }

  // `"key" :` inside a nested object.
  bool member_key() {
    if (!consume('"') || !string(nullptr)) return false;
    skip_space();
    return consume(':');
  }

  const Wanted& wanted_;
  Found& found_;
  const char* p_ = nullptr;
  const char* end_ = nullptr;
  std::string key_;
};

// SAX handler that picks the message, source and label out of one object without building a DOM:
// no allocation per key or value beyond the parser's token buffer (and, for wanted paths, the keys of
// the objects on the way).
class FieldExtractor {
 public:
  FieldExtractor(const Wanted& wanted, Found& found) : wanted_(wanted), found_(found) {}

  void reset() {
    depth_ = 0;
    slot_ = wanted_.none();
    slot_depth_ = 0;
    not_object_ = false;
    error_.clear();
  }
  bool not_object() const { return not_object_; }
  const std::string& error() const { return error_; }

  bool null() {
    if (!top_level_value()) return false;
    if (wanted_here()) found_.seen[slot_] = Seen::null;
    return true;
  }
  bool boolean(bool) { return other_value(); }
  bool number_integer(json::number_integer_t) { return other_value(); }
  bool number_unsigned(json::number_unsigned_t) { return other_value(); }
  bool number_float(json::number_float_t, const std::string&) { return other_value(); }
  bool binary(json::binary_t&) { return other_value(); }
  bool string(std::string& value) {
    if (!top_level_value()) return false;
    if (wanted_here()) {
      found_.seen[slot_] = Seen::string;
      found_.values[slot_].assign(value);  // copy, so the value keeps its capacity from record to record
    }
    return true;
  }
  bool start_object(std::size_t) {
    mark_other();
    open(false);
    return true;
  }
  bool end_object() {
    --depth_;
    return true;
  }
  bool start_array(std::size_t) {
    if (!other_value()) return false;
    open(true);
    return true;
  }
  bool end_array() {
    --depth_;
    return true;
  }
  bool key(std::string& name) {
    if (depth_ == 1) {
      slot_ = wanted_.slot(name);
      slot_depth_ = 1;
      if (wanted_.has_paths()) path_.assign(name);
    } else if (wanted_.has_paths() && on_path()) {
      // path_ holds the keys down to the enclosing object; this key replaces its sibling's.
      path_.resize(path_ends_[depth_ - 2]);
      path_ += '.';
      path_ += name;
      slot_ = wanted_.slot(path_);
      slot_depth_ = depth_;
    }
    return true;
  }
  template <class Exception>
  bool parse_error(std::size_t, const std::string&, const Exception& ex) {
    // Drop the "[json.exception.parse_error.101] " tag: the rest says what and where.
    std::string_view what = ex.what();
    if (auto tag_end = what.find("] "); !what.empty() && what.front() == '[' && tag_end != what.npos) {
      what.remove_prefix(tag_end + 2);
    }
    error_.assign(what);
    return false;
  }

 private:
  static constexpr std::size_t kMaxPathDepth = 32;

  // Enters a container. For wanted paths, remembers where the path to it ends, and whether every
  // container from the top object down to it is an object (arrays are not walked into).
  void open(bool array) {
    ++depth_;
    if (!wanted_.has_paths() || depth_ < 2 || depth_ > kMaxPathDepth) return;
    const bool parent_on_path = depth_ == 2 ? wanted_.path_head(path_) : on_path_[depth_ - 3];
    on_path_[depth_ - 2] = !array && parent_on_path;
    path_ends_[depth_ - 2] = path_.size();
  }
  // Whether keys at the current depth continue a path that may be wanted.
  bool on_path() const { return depth_ >= 2 && depth_ <= kMaxPathDepth && on_path_[depth_ - 2]; }
  // Whether the value being read is under a wanted key or path.
  bool wanted_here() const { return depth_ == slot_depth_ && slot_ != wanted_.none(); }
  // A scalar or array as the whole document means the line is not an object: stop parsing there.
  bool top_level_value() {
    if (depth_ == 0) not_object_ = true;
    return depth_ != 0;
  }
  bool other_value() {
    if (!top_level_value()) return false;
    mark_other();
    return true;
  }
  void mark_other() {
    if (wanted_here()) found_.seen[slot_] = Seen::other;
  }
  const Wanted& wanted_;
  Found& found_;
  std::size_t depth_ = 0;
  std::size_t slot_ = 0;
  std::size_t slot_depth_ = 0;  // the depth of the key slot_ belongs to
  bool not_object_ = false;
  std::string error_;
  std::string path_;  // the keys from the top object down to the current key, joined by dots
  std::array<std::size_t, kMaxPathDepth> path_ends_{};  // path_'s length at the start of each nested object
  std::array<bool, kMaxPathDepth> on_path_{};           // each nested object lies on a possible path
};

}  // namespace

struct JsonRecordParser::Impl {
  Impl(const ReadOptions& options, bool fast_path)
      : options_(options), fast_path_(fast_path), wanted_(options_), found_(wanted_), fast_(wanted_, found_),
        extractor_(wanted_, found_) {}

  std::string parse(const std::string& text, Record& out, bool& object) {
    // nlohmann's lexer takes a NUL byte for the end of input and would ignore what follows it; raw NUL
    // is never valid JSON.
    if (const void* nul = std::memchr(text.data(), '\0', text.size())) {
      const auto column = static_cast<const char*>(nul) - text.data() + 1;
      return "invalid JSON: NUL byte at column " + std::to_string(column);
    }
    found_.reset();
    if (!fast_path_ || !fast_.scan(text)) {
      found_.reset();  // the fast scanner may have stopped half-way
      extractor_.reset();
      if (!json::sax_parse(text.data(), text.data() + text.size(), &extractor_)) {
        if (extractor_.not_object()) return "not a JSON object";
        return "invalid JSON: " + extractor_.error();
      }
    }
    object = true;
    std::size_t message = 0;
    while (message < wanted_.messages() && found_.seen[message] == Seen::missing) ++message;
    if (message == wanted_.messages()) {
      if (wanted_.messages() == 1) return "field '" + wanted_.name(0) + "' missing";
      return "no field " + alternatives(options_.message_fields);
    }
    if (found_.seen[message] != Seen::string) return "field '" + wanted_.name(message) + "' is not a string";
    const std::size_t source = wanted_.source(), label = wanted_.label();
    if (found_.seen[source] == Seen::other) return "field '" + options_.source_field + "' is not a string";
    if (found_.seen[label] == Seen::other) return "field '" + options_.label_field + "' is not a string";
    if (options_.require_label) {
      if (found_.seen[label] != Seen::string) return "field '" + options_.label_field + "' missing";
      if (found_.values[label].empty()) return "field '" + options_.label_field + "' is empty";
    }
    // Swapped rather than copied: each string keeps a capacity from record to record.
    out.message.swap(found_.values[message]);
    take(found_.seen[source], found_.values[source], out.source);
    take(found_.seen[label], found_.values[label], out.label);
    return {};
  }

  static void take(Seen seen, std::string& value, std::string& out) {
    if (seen == Seen::string) {
      out.swap(value);
    } else {
      out.clear();
    }
  }

  ReadOptions options_;
  bool fast_path_;
  Wanted wanted_;
  Found found_;
  FastScanner fast_;
  FieldExtractor extractor_;
};

JsonRecordParser::JsonRecordParser(const ReadOptions& options, bool fast_path)
    : impl_(std::make_unique<Impl>(options, fast_path)) {}
JsonRecordParser::~JsonRecordParser() = default;

std::string JsonRecordParser::parse(const std::string& text, Record& out, bool& object) {
  return impl_->parse(text, out, object);
}

}  // namespace logclf::io
