#include "logclf/corpus.h"

namespace logclf::corpus {
namespace {

void append_field(std::string& out, const std::string& field) {
  if (field.find_first_of(",\"\r\n") == std::string::npos) {
    out += field;
    return;
  }
  out += '"';
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

}  // namespace

std::string generate_csv(const GeneratorOptions& options) {
  std::string out = "timestamp,source,log_message,target_label\n";
  for (const GeneratedLine& line : generate(options)) {
    append_field(out, line.timestamp);
    out += ',';
    append_field(out, line.source);
    out += ',';
    append_field(out, line.message);
    out += ',';
    append_field(out, line.label);
    out += '\n';
  }
  return out;
}

}  // namespace logclf::corpus
