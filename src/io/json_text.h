// JSON text for the writers: string literals, confidences, and the keys a prediction adds to an object.
#pragma once

#include <string>
#include <string_view>

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

}  // namespace logclf::io
