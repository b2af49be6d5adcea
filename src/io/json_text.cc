#include "io/json_text.h"

#include <charconv>
#include <cmath>

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
  out += ",\"stage\":\"";
  out += logclf::to_string(prediction.stage);
  out += "\",\"rule\":";
  if (prediction.rule.empty()) {
    out += "null";
  } else {
    append_json(out, prediction.rule);
  }
  out += ",\"confidence\":";
  if (std::isfinite(prediction.confidence)) {
    append_confidence(out, prediction.confidence);
  } else {
    out += "null";  // JSON has no NaN or infinity
  }
}

}  // namespace logclf::io
