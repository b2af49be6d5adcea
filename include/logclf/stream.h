// Streaming classification: records from a reader to a writer through a parallel pipeline (reading and
// parsing, classification on every core, writing in input order), in constant memory whatever the input's
// size, with results sent on as soon as the input pauses.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "logclf/cache.h"
#include "logclf/classifier.h"
#include "logclf/io.h"

namespace logclf {

// What classify_stream does with a bad record (a Record with `error`, from a reader with
// ReadOptions::keep_bad_records): stop with its error, leave it out, or write it through in its place.
enum class OnError { fail, skip, pass };

struct StreamStats {
  static constexpr std::size_t kFirstErrors = 10;
  std::uint64_t lines = 0;        // records classified
  // Bad records, skipped or passed through: records read = lines + bad_records; records written = lines,
  // plus bad_records with OnError::pass.
  std::uint64_t bad_records = 0;
  std::vector<std::string> first_errors;  // of the first kFirstErrors bad records: "NAME:LINE: problem"
  std::uint64_t input_bytes = 0;  // of the input consumed by the lines written (for progress reports)
  std::uint64_t per_stage[3] = {0, 0, 0};  // by Stage: rule, model, uncertain
  std::map<std::string, std::uint64_t> per_label;
  double seconds = 0;
  CacheStats cache;  // zero without a cache
};

inline constexpr std::size_t kDefaultBatchBytes = std::size_t{4} << 20;

struct StreamOptions {
  // Classifying threads; 0: one per core with the lexical encoder, one with a batching encoder (E5),
  // whose forward pass already runs on every core.
  int workers = 0;
  // Records per batch; 0: 1024 with the lexical encoder, 256 with a batching encoder.
  std::size_t batch_lines = 0;
  // A batch also ends once its records hold this many bytes (0: kDefaultBatchBytes). About four batches'
  // bytes are in flight at a time, plus one record, so memory stays bounded whatever the line lengths.
  std::size_t batch_bytes = 0;
  // Called on the writing thread after each batch is written, with the totals so far.
  std::function<void(const StreamStats&)> on_batch;
  // Reading stops (as at the end of input) once this is true; what was read is still classified and
  // written. May be set from a signal handler.
  const std::atomic<bool>* stop = nullptr;
  OnError on_error = OnError::fail;
};

// Classifies every record of `input` into `output` (committed at the end), through `cache` unless it is
// null. Records are written in input order; at most a few batches per thread are held in memory. A batch
// is cut short and its results flushed whenever a pipe or terminal input has nothing more to give yet, so
// `tail -F app.log | logclf classify -` answers each line as it comes. Throws the first Error of any
// stage (a bad record unless options.on_error says otherwise, a write failure); the output is then not
// committed.
StreamStats classify_stream(const Classifier& classifier, RecordReader& input, RecordWriter& output,
                            MessageCache* cache = nullptr, const StreamOptions& options = {});

}  // namespace logclf
