// JSON text for the writers: string literals, confidences, and the keys a prediction adds to an object.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
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

}  // namespace logclf::io
