// JSON text for the writers: string literals, confidences, and the keys a prediction adds to an object.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "logclf/types.h"

namespace logclf::io {

// A JSON string literal; `text` must be valid UTF-8 already, so only quotes, backslashes and control
// characters need escaping.
void append_json(std::string& out, std::string_view text);
// Four decimals, fixed: 0.9731.
void append_confidence(std::string& out, double confidence);
// "predicted_label":"..." and, with `explain`, ,"stage":"model","rule":null,"confidence":0.9731 (the
// rule's name for a rule; a confidence JSON cannot hold is null).
void append_prediction_keys(std::string& out, const Prediction& prediction, bool explain);
// The value append_prediction_keys writes for `key` ("predicted_label", "stage", "rule" or "confidence").
void append_prediction_value(std::string& out, std::string_view key, const Prediction& prediction);

// A top-level member of a JSON object: its key (decoded) and where its value's text is.
struct JsonMember {
  std::string key;
  std::size_t value_begin = 0, value_end = 0;
};
// Fills `members` with the top-level members of `object`, a JSON object's text (already known to be valid
// JSON), in order, duplicates included, so that a writer can replace a value where it stands. False when
// the text is no object.
bool find_members(std::string_view object, std::vector<JsonMember>& members);

// Fills `elements` with the [begin, end) spans of the elements of `array`, a JSON array's text (already
// known to be valid JSON), in order. False when the text is no array.
bool find_elements(std::string_view array, std::vector<std::pair<std::size_t, std::size_t>>& elements);

// Appends `object` (a JSON object's text, valid JSON) with the members `keys` (at most 32) set: the value
// of a key the object has already is replaced where it stands (at each occurrence, should it come twice),
// the others are added before the closing brace; all other text is kept as it was. `write_value(i, out)`
// appends the value of keys[i].
template <typename WriteValue>
void append_object_with(std::string& out, std::string_view object, std::span<const std::string_view> keys,
                        WriteValue&& write_value) {
  std::uint32_t present = 0;
  std::size_t copied = 0;
  const std::size_t close = object.rfind('}');
  // A quick look first: a key can only be present spelled out, or written with \u escapes.
  bool may_have = object.find("\\u") != object.npos;
  for (std::size_t i = 0; i < keys.size() && !may_have; ++i) may_have = object.find(keys[i]) != object.npos;
  thread_local std::vector<JsonMember> members;
  if (may_have && find_members(object, members)) {
    for (const JsonMember& member : members) {
      std::size_t i = 0;
      while (i < keys.size() && keys[i] != member.key) ++i;
      if (i == keys.size()) continue;
      out.append(object, copied, member.value_begin - copied);
      write_value(i, out);
      copied = member.value_end;
      present |= std::uint32_t{1} << i;
    }
  }
  out.append(object, copied, close - copied);
  const std::size_t before = object.find_last_not_of(" \t\r\n", close - 1);
  bool members_before = before != object.npos && object[before] != '{';
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (present & (std::uint32_t{1} << i)) continue;
    if (members_before) out += ',';
    append_json(out, keys[i]);
    out += ':';
    write_value(i, out);
    members_before = true;
  }
  out += '}';
}

}  // namespace logclf::io
