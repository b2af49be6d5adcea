#pragma once

#include <memory>
#include <string>

#include "io/input_source.h"
#include "logclf/io.h"

namespace logclf::io {

// CSV per RFC 4180 with a header row, plus what real files contain: LF or CRLF line ends, a UTF-8 BOM,
// blanks between a comma and a quoted field (`a, "b"`), and blanks between a closing quote and the next
// comma. Empty lines before the header are skipped; after it an empty line is a row whose fields are all
// empty. Throws Error when the header lacks the message column (or the label column when
// options.require_label).
std::unique_ptr<RecordReader> make_csv_reader(InputSource source, std::string name, const ReadOptions& options);

}  // namespace logclf::io
