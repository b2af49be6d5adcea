// Streaming readers and writers for the input formats logclf accepts (CSV, JSON lines, plain lines) and
// the classified output. Readers never drop a record: each input record yields exactly one Record, in order
// (a bad one as an Error, or with ReadOptions::keep_bad_records as a Record whose `error` says why).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "logclf/types.h"

namespace logclf {

// json: output only, one JSON array of the objects jsonl output writes. Read, it is JSON lines (a .json
// file usually holds them), except that an input starting with '[' is refused as an array.
enum class Format { csv, jsonl, json, lines };

// "csv", "jsonl" (also "ndjson"), "json", "lines" (also "text", "txt"); nullopt for anything else.
std::optional<Format> parse_format(std::string_view name);
std::string_view to_string(Format format);
// By extension: .csv -> csv; .jsonl/.ndjson -> jsonl; .json -> json; .log/.txt -> lines; otherwise
// `fallback`. A trailing .gz etc. is not looked through. "-" gives `fallback`.
Format format_from_path(std::string_view path, Format fallback);
// The same for an output file, except that an extension naming no format is an Error rather than
// `fallback` (a file called x.parquet would otherwise hold CSV).
Format output_format_from_path(std::string_view path, Format fallback);
// The names tried for the message field when none is given: {"log_message"}, and for JSON lines also the
// names log shippers use: {"log_message", "message" (Vector, Logstash), "log" (Fluent Bit, Docker), "msg"}.
std::vector<std::string> default_message_fields(Format format);
// Appends `field` as one CSV field (RFC 4180): quoted, its quotes doubled, only when it holds a comma, a
// quote, a line break or leading or trailing blanks.
void append_csv_field(std::string& out, std::string_view field);

struct Record {
  uint64_t line = 0;                 // 1-based line of the input on which the record starts
  std::string message;               // the message field, valid UTF-8
  std::string source;                // the source field; empty when the input has none
  std::string label;                 // the label field (e.g. target_label) when present, else empty
  // Pass-through data for writers. csv: every field in header order (valid UTF-8);
  // jsonl: exactly one element, the object's original text; lines: empty.
  std::vector<std::string> fields;
  // csv: the row's text as read (without its line terminator) when writing `fields` again would give the
  // very same text (no quotes, CR or blanks at a field's edges; valid UTF-8): a CSV writer copies it
  // instead of formatting the fields again. Empty otherwise. For a bad record, see `error`.
  std::string raw;
  // Empty for a good record. A bad record (ReadOptions::keep_bad_records) has "NAME:LINE: problem" here,
  // an empty message, source and label, and what could be recovered for writers to pass it through:
  // `raw`: the record's text as read (UTF-8 repaired; empty when longer than max_record_bytes);
  // `fields`: csv: `raw` in the message column, the other columns empty; jsonl: {the line's text} when
  // it is a JSON object, else empty; lines: empty.
  std::string error;
};

struct ReadOptions {
  Format format = Format::csv;
  bool strict_utf8 = false;          // invalid UTF-8 is an error instead of being replaced by U+FFFD
  // Names of the message field, tried in order: csv uses the first the header has, jsonl the first each
  // object has (as a key, whatever its value). Not empty. For jsonl a name with a dot ("event.original") is
  // also a path into nested objects; so are source_field and label_field.
  std::vector<std::string> message_fields = {"log_message"};
  std::string source_field = "source";
  std::string label_field = "target_label";
  bool require_label = false;        // a record without a label is an error (train / evaluate)
  std::size_t max_record_bytes = std::size_t{16} << 20;  // longer record -> Error (bounded memory)
  // A bad record (invalid JSON, a missing or non-string field, a CSV row with the wrong number of fields
  // or broken quoting, invalid UTF-8 under strict_utf8, a record over max_record_bytes) is returned as a
  // Record with `error` set instead of thrown, and reading goes on with the next record: after a bad CSV
  // row at its end when it could be parsed to its end, else at the next line (the line after the one an
  // unterminated quote opened on). Problems of the whole input (header, reading) are still thrown.
  bool keep_bad_records = false;
};

class RecordReader {
 public:
  // `path` "-" reads standard input. Throws Error when the file cannot be opened or its header is invalid.
  static std::unique_ptr<RecordReader> open(const std::string& path, const ReadOptions& options);
  // Reads from memory; `name` is used in error messages.
  static std::unique_ptr<RecordReader> from_string(std::string data, std::string name,
                                                   const ReadOptions& options);
  virtual ~RecordReader() = default;

  // Fills `out` with the next record; returns false at end of input. Throws Error("NAME:LINE: problem")
  // (for a bad record only without ReadOptions::keep_bad_records).
  virtual bool next(Record& out) = 0;
  // csv: the header's column names; jsonl and lines: {message_fields.front()}.
  virtual const std::vector<std::string>& columns() const = 0;
  virtual Format format() const = 0;
  virtual const std::string& name() const = 0;
  // Input bytes consumed so far, and the input's size when known (a file or a string; 0 for a pipe).
  virtual std::uint64_t bytes_read() const = 0;
  virtual std::uint64_t total_bytes() const = 0;
  // True when next() would wait for more input: the input is a pipe or terminal and every byte read from
  // it so far has been returned as records. A streaming consumer sends on what it has at that point.
  virtual bool caught_up() const = 0;
  // Reading a pipe or terminal ends, as at the end of input, within about 100 ms of `*flag` becoming true
  // (instead of waiting for a writer that may never write again). `flag` must outlive the reader.
  virtual void stop_when(const std::atomic<bool>* flag) = 0;
};

// Reads every record of a labelled file (train / evaluate input) as message, source and label.
// `options.require_label` is set and a bad record is an Error; an input with no record is an Error.
std::vector<LabeledLine> read_labeled(const std::string& path, ReadOptions options);

struct WriteOptions {
  Format format = Format::csv;
  bool explain = false;              // add stage, rule, confidence
  bool error_column = false;         // csv and lines: add an `error` column (empty for good records)
};

// Writes input records with their prediction. csv output: the input's columns (csv input), or
// log_message[,source] (other inputs), then predicted_label [, stage, rule, confidence] [, error].
// jsonl output: the input object (jsonl input) or an object of the input columns, with the same keys
// added; json output: those objects as one array. An input column or key of an added name gets the new
// value in its place. lines output: "label<TAB>message", or
// "label<TAB>stage<TAB>rule<TAB>confidence<TAB>message", with "error<TAB>" before the message when
// error_column; backslash, TAB, LF and CR written as \\, \t, \n and \r in every field.
// A bad record (Record::error) is written in its place with an empty label (and empty stage, rule,
// confidence; in jsonl and json output null), its `raw` text as the message (csv input: its fields), and
// its error: in the error column, and in jsonl output as key "error" (bad records only). jsonl output of a
// bad record that is no JSON object: {"raw": TEXT, "predicted_label": null, "error": ...}.
class RecordWriter {
 public:
  // `path` "-" writes standard output. A regular file (or a new one) is written to a temporary file beside
  // it and renamed into place by commit(), so an interrupted run never leaves a half-written file; through
  // a symbolic link, the link's target is replaced that way. A FIFO, device or Unix socket is written
  // directly, as it streams. A directory is an Error.
  static std::unique_ptr<RecordWriter> open(const std::string& path, const RecordReader& input,
                                            const WriteOptions& options);
  // Writes to a string (for servers and tests); the text is available from str() after commit().
  static std::unique_ptr<RecordWriter> to_string(const RecordReader& input, const WriteOptions& options);
  virtual ~RecordWriter() = default;

  virtual void write(const Record& record, const Prediction& prediction) = 0;
  // Appends to `out` what write() would write, without writing it: safe from many threads at once, so
  // that a pipeline formats on every core and writes the results in order with write_formatted().
  virtual void format(const Record& record, const Prediction& prediction, std::string& out) const = 0;
  virtual void write_formatted(std::string_view rows) = 0;
  virtual void flush() = 0;          // pushes buffered output to the destination
  virtual void commit() = 0;         // flushes and, for files, atomically moves the result into place
  virtual const std::string& str() const = 0;  // the text written, for to_string() writers
};

// Writes `data` to `path` atomically (temporary file in the same directory, fsync, rename), or directly to a
// FIFO, device or socket, as RecordWriter::open does. A temporary file left by a killed run is removed by
// the next write to the same path.
void write_file_atomic(const std::string& path, std::string_view data);

// Deletes the temporary files of writers not yet committed, and the temporary directory of a model bundle
// being saved. Async-signal-safe: call it from a SIGINT / SIGTERM handler so an interrupted run leaves
// neither a half-written output nor a stray temporary file.
void remove_pending_temp_files() noexcept;

}  // namespace logclf
