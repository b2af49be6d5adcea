#include "io/csv_field.h"
#include "logclf/corpus.h"

namespace logclf::corpus {

std::string generate_csv(const GeneratorOptions& options) {
  std::string out = "timestamp,source,log_message,target_label\n";
  for (const GeneratedLine& line : generate(options)) {
    io::append_csv(out, line.timestamp);
    out += ',';
    io::append_csv(out, line.source);
    out += ',';
    io::append_csv(out, line.message);
    out += ',';
    io::append_csv(out, line.label);
    out += '\n';
  }
  return out;
}

}  // namespace logclf::corpus
