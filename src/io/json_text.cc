#include "io/json_text.h"

#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>
#include <utility>

#include "io/swar.h"

namespace logclf::io {

void append_json(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  const char* p = text.data();
  const char* end = p + text.size();
  out += '"';
  for (;;) {
    const char* special = io::swar::find_json_special(p, end);
    out.append(p, special);
    if (special == end) break;
    p = special + 1;
    switch (const auto c = static_cast<unsigned char>(*special)) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 15];
    }
  }
  out += '"';
}

void append_confidence(std::string& out, double confidence) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, confidence, std::chars_format::fixed, 4);
  out.append(buffer, result.ptr);
}

void append_prediction_keys(std::string& out, const Prediction& prediction, bool explain) {
  out += "\"predicted_label\":";
  append_json(out, prediction.label);
  if (!explain) return;
  for (const std::string_view key : {"stage", "rule", "confidence"}) {
    out += ",\"";
    out += key;
    out += "\":";
    append_prediction_value(out, key, prediction);
  }
}

void append_prediction_value(std::string& out, std::string_view key, const Prediction& prediction) {
  if (key == "predicted_label") {
    append_json(out, prediction.label);
  } else if (key == "stage") {
    append_json(out, logclf::to_string(prediction.stage));
  } else if (key == "rule") {
    if (prediction.rule.empty()) {
      out += "null";
    } else {
      append_json(out, prediction.rule);
    }
  } else if (std::isfinite(prediction.confidence)) {
    append_confidence(out, prediction.confidence);
  } else {
    out += "null";  // JSON has no NaN or infinity
  }
}

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::size_t skip_space(std::string_view text, std::size_t p) {
  while (p < text.size() && is_space(text[p])) ++p;
  return p;
}

// Past the closing quote of the string whose opening quote is at `p`, or npos.
std::size_t string_end(std::string_view text, std::size_t p) {
  for (++p; p < text.size(); ++p) {
    if (text[p] == '"') return p + 1;
    if (text[p] == '\\') ++p;
  }
  return text.npos;
}

// Where the value starting at `p` ends: the first ',' or `close` outside strings and nested containers
// (npos when there is none).
std::size_t value_end(std::string_view text, std::size_t p, char close) {
  for (int depth = 0; p < text.size(); ++p) {
    const char c = text[p];
    if (c == '"') {
      p = string_end(text, p);
      if (p == text.npos) return p;
      --p;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    } else if ((c == ',' || c == close) && depth == 0) {
      return p;
    }
  }
  return text.npos;
}

std::size_t trim_end(std::string_view text, std::size_t begin, std::size_t end) {
  while (end > begin && is_space(text[end - 1])) --end;
  return end;
}

}  // namespace

bool find_elements(std::string_view array, std::vector<std::pair<std::size_t, std::size_t>>& elements) {
  elements.clear();
  std::size_t p = skip_space(array, 0);
  if (p == array.size() || array[p] != '[') return false;
  p = skip_space(array, p + 1);
  if (p < array.size() && array[p] == ']') return true;
  for (;;) {
    const std::size_t begin = p;
    p = value_end(array, p, ']');
    if (p == array.npos) return false;
    const std::size_t end = trim_end(array, begin, p);
    if (end == begin) return false;
    elements.emplace_back(begin, end);
    if (array[p] == ']') return true;
    p = skip_space(array, p + 1);
  }
}

bool find_members(std::string_view object, std::vector<JsonMember>& members) {
  members.clear();
  std::size_t p = skip_space(object, 0);
  if (p == object.size() || object[p] != '{') return false;
  p = skip_space(object, p + 1);
  if (p < object.size() && object[p] == '}') return true;
  for (;;) {
    if (p == object.size() || object[p] != '"') return false;
    const std::size_t key_end = string_end(object, p);
    if (key_end == object.npos) return false;
    JsonMember member;
    const std::string_view key = object.substr(p, key_end - p);
    if (key.find('\\') == key.npos) {
      member.key.assign(key.substr(1, key.size() - 2));
    } else {
      try {
        member.key = nlohmann::json::parse(key).get<std::string>();
      } catch (const nlohmann::json::exception&) {
        return false;
      }
    }
    p = skip_space(object, key_end);
    if (p == object.size() || object[p] != ':') return false;
    p = skip_space(object, p + 1);
    member.value_begin = p;
    p = value_end(object, p, '}');
    if (p == object.npos) return false;
    member.value_end = trim_end(object, member.value_begin, p);
    if (member.value_end == member.value_begin) return false;
    members.push_back(std::move(member));
    if (object[p] == '}') return true;
    p = skip_space(object, p + 1);
  }
}

}  // namespace logclf::io
