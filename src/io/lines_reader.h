#pragma once

#include <memory>
#include <string>

#include "io/input_source.h"
#include "logclf/io.h"

namespace logclf::io {

// Plain text, one message per line (LF or CRLF). Every line is a record, empty ones included, so the
// output has exactly one row per input line. A UTF-8 BOM at the start is skipped.
std::unique_ptr<RecordReader> make_lines_reader(InputSource source, std::string name,
                                                const ReadOptions& options);

}  // namespace logclf::io
