#include "io/jsonl_reader.h"

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

enum Slot : uint8_t { kMessage, kSource, kLabel, kSlots, kNone = kSlots };
// What a line's object holds under a field's name.
enum class Seen : uint8_t { missing, string, null, other };

Slot slot_of(std::string_view key, const ReadOptions& options) {
  return key == options.message_field  ? kMessage
         : key == options.source_field ? kSource
         : key == options.label_field  ? kLabel
                                       : kNone;
}

std::string& target(Record& out, Slot slot) {
  return slot == kMessage ? out.message : slot == kSource ? out.source : out.label;
}

// The fast path for the usual line: a strict scanner that decodes the wanted strings and validates the
// rest without allocating. It answers false whenever it is not certain the object is valid JSON that
// nlohmann would accept (any error, \u escapes of surrogates, exponents, very long numbers, deep
// nesting); the caller then parses the line with nlohmann, which gives the same values or a precise
// error. So the fast path decides speed only, never what is accepted.
class FastScanner {
 public:
  explicit FastScanner(const ReadOptions& options) : options_(options) {}

  bool scan(std::string_view text, Record& out, Seen (&seen)[kSlots]) {
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
        const Slot slot = slot_of(key_, options_);
        if (slot != kNone && p_ < end_ && *p_ == '"') {
          ++p_;
          std::string& value = target(out, slot);
          value.clear();
          if (!string(&value)) return false;
          seen[slot] = Seen::string;
        } else {
          const bool null = end_ - p_ >= 4 && std::memcmp(p_, "null", 4) == 0;
          if (!value()) return false;
          if (slot != kNone) {
            seen[slot] = null ? Seen::null : Seen::other;
            if (null) target(out, slot).clear();
          }
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

  const ReadOptions& options_;
  const char* p_ = nullptr;
  const char* end_ = nullptr;
  std::string key_;
};

// SAX handler that picks the message, source and label out of one object without building a DOM:
// no allocation per key or value beyond the parser's token buffer.
class FieldExtractor {
 public:
  FieldExtractor(const ReadOptions& options, Seen (&seen)[kSlots]) : options_(options), seen_(seen) {}

  void reset(Record& out) {
    out_ = &out;
    depth_ = 0;
    slot_ = kNone;
    not_object_ = false;
    error_.clear();
  }
  bool not_object() const { return not_object_; }
  const std::string& error() const { return error_; }

  bool null() {
    if (!top_level_value()) return false;
    if (depth_ == 1 && slot_ != kNone) {
      seen_[slot_] = Seen::null;
      target(*out_, slot_).clear();
    }
    return true;
  }
  bool boolean(bool) { return other_value(); }
  bool number_integer(json::number_integer_t) { return other_value(); }
  bool number_unsigned(json::number_unsigned_t) { return other_value(); }
  bool number_float(json::number_float_t, const std::string&) { return other_value(); }
  bool binary(json::binary_t&) { return other_value(); }
  bool string(std::string& value) {
    if (!top_level_value()) return false;
    if (depth_ == 1 && slot_ != kNone) {
      seen_[slot_] = Seen::string;
      target(*out_, slot_).assign(value);  // copy, so `out` keeps its capacity from record to record
    }
    return true;
  }
  bool start_object(std::size_t) {
    if (depth_ == 1) mark_other();
    ++depth_;
    return true;
  }
  bool end_object() {
    --depth_;
    return true;
  }
  bool start_array(std::size_t) {
    if (!other_value()) return false;
    ++depth_;
    return true;
  }
  bool end_array() {
    --depth_;
    return true;
  }
  bool key(std::string& name) {
    if (depth_ == 1) slot_ = slot_of(name, options_);
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
    if (depth_ == 1 && slot_ != kNone) seen_[slot_] = Seen::other;
  }
  const ReadOptions& options_;
  Seen (&seen_)[kSlots];
  Record* out_ = nullptr;
  std::size_t depth_ = 0;
  Slot slot_ = kNone;
  bool not_object_ = false;
  std::string error_;
};

// Trimmed around a line's object; JSON allows them there, and trimming keeps the writer's insertion
// point at the very end.
bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

class JsonlReader final : public RecordReader {
 public:
  JsonlReader(InputSource source, std::string name, const ReadOptions& options, bool fast_path)
      : lines_(std::move(source), std::move(name), options.max_record_bytes),
        options_(options),
        fast_path_(fast_path),
        fast_(options_),
        extractor_(options_, seen_),
        columns_{options.message_field} {}

  bool next(Record& out) override {
    std::string_view line;
    do {
      if (!lines_.next(line)) return false;
      while (!line.empty() && is_blank(line.front())) line.remove_prefix(1);
      while (!line.empty() && is_blank(line.back())) line.remove_suffix(1);
    } while (line.empty());
    const uint64_t at = lines_.line_number();
    out.line = at;
    out.fields.resize(1);
    std::string& text = out.fields[0];
    text.assign(line);
    // Before parsing: the parser rejects invalid UTF-8, and the text is passed through to the output.
    ensure_utf8(text, options_.strict_utf8, lines_.name(), at, "the line");

    // nlohmann's lexer takes a NUL byte for the end of input and would ignore what follows it; raw NUL
    // is never valid JSON.
    if (const void* nul = std::memchr(text.data(), '\0', text.size())) {
      const auto column = static_cast<const char*>(nul) - text.data() + 1;
      fail(at, "invalid JSON: NUL byte at column " + std::to_string(column));
    }
    if (!extract(text, out)) {
      if (extractor_.not_object()) fail(at, "not a JSON object");
      fail(at, "invalid JSON: " + extractor_.error());
    }
    check_string(at, kMessage, options_.message_field, true);
    check_string(at, kSource, options_.source_field, false);
    check_string(at, kLabel, options_.label_field, options_.require_label);
    if (options_.require_label && out.label.empty()) fail(at, "field '" + options_.label_field + "' is empty");
    return true;
  }

  const std::vector<std::string>& columns() const override { return columns_; }
  Format format() const override { return Format::jsonl; }
  const std::string& name() const override { return lines_.name(); }
  std::uint64_t bytes_read() const override { return lines_.source().position(); }
  std::uint64_t total_bytes() const override { return lines_.source().total_size(); }
  bool caught_up() const override { return lines_.caught_up(); }
  void stop_when(const std::atomic<bool>* flag) override { lines_.source().stop_when(flag); }

 private:
  // Fills the message, source and label from the object `text`, and seen_; false if it is not valid.
  bool extract(const std::string& text, Record& out) {
    auto clear = [&] {
      for (Seen& s : seen_) s = Seen::missing;
      out.message.clear();
      out.source.clear();
      out.label.clear();
    };
    clear();
    if (fast_path_ && fast_.scan(text, out, seen_)) return true;
    clear();  // the fast scanner may have stopped half-way
    extractor_.reset(out);
    return json::sax_parse(text.data(), text.data() + text.size(), &extractor_);
  }

  [[noreturn]] void fail(uint64_t line, const std::string& problem) const {
    throw_at(lines_.name(), line, problem);
  }
  // The message must be a string; source and label may also be null or absent (unless required).
  void check_string(uint64_t line, Slot slot, const std::string& field, bool required) const {
    const Seen seen = seen_[slot];
    const bool message = slot == kMessage;
    if (seen == Seen::other || (message && seen == Seen::null)) fail(line, "field '" + field + "' is not a string");
    if (required && seen != Seen::string) fail(line, "field '" + field + "' missing");
  }

  LineSplitter lines_;
  ReadOptions options_;
  bool fast_path_;
  Seen seen_[kSlots] = {};
  FastScanner fast_;
  FieldExtractor extractor_;
  std::vector<std::string> columns_;
};

}  // namespace

std::unique_ptr<RecordReader> make_jsonl_reader(InputSource source, std::string name,
                                                const ReadOptions& options, bool fast_path) {
  return std::make_unique<JsonlReader>(std::move(source), std::move(name), options, fast_path);
}

}  // namespace logclf::io
