#pragma once

#include <memory>
#include <string>

#include "io/input_source.h"
#include "logclf/io.h"

namespace logclf::io {

// JSON lines: each non-blank line is one JSON object. The message field must be a string; source and
// label may be strings or null (= empty). Only top-level keys count; a repeated key's last value wins,
// as with JSON parsers. Record::fields holds the line's text, trimmed of blanks. Blank lines are not
// records; a UTF-8 BOM at the start is skipped.
// `fast_path` false parses every line with nlohmann's parser only, for tests and fuzzers that check
// the fast path against it.
std::unique_ptr<RecordReader> make_jsonl_reader(InputSource source, std::string name,
                                                const ReadOptions& options, bool fast_path = true);

}  // namespace logclf::io
