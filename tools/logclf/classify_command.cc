// `logclf classify`: label every record of a file or of standard input, streaming.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>

#include "args.h"
#include "classify_file.h"
#include "command.h"
#include "logclf/io.h"

namespace logclf::cli {
namespace {

using Clock = std::chrono::steady_clock;

// A progress line on stderr, only when stderr is a terminal: a bar when the input's size is known.
class Progress {
 public:
  Progress(bool enabled, std::uint64_t total_bytes) : enabled_(enabled && isatty(STDERR_FILENO)), total_(total_bytes) {}
  void tick(const StreamStats& s) {
    if (!enabled_) return;
    const auto now = Clock::now();
    if (now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    const double rate = s.lines / std::chrono::duration<double>(now - start_).count();
    if (total_ > 0) {
      const double done = std::min(1.0, static_cast<double>(s.input_bytes) / static_cast<double>(total_));
      const int filled = static_cast<int>(done * 30);
      std::fprintf(stderr, "\r[%s%s] %3.0f%%  %llu lines  %.0f lines/s ", std::string(filled, '#').c_str(),
                   std::string(30 - filled, '.').c_str(), done * 100, static_cast<unsigned long long>(s.lines), rate);
    } else {
      std::fprintf(stderr, "\r%llu lines  %.0f lines/s ", static_cast<unsigned long long>(s.lines), rate);
    }
    shown_ = true;
  }
  void done() {
    if (shown_) std::fputs("\r\033[K", stderr);
  }

 private:
  bool enabled_;
  std::uint64_t total_;
  bool shown_ = false;
  Clock::time_point start_ = Clock::now(), last_ = Clock::now();
};

}  // namespace

StreamStats classify_file(const Classifier& classifier, const ClassifyArgs& a, MessageCache* cache) {
  const OnError on_error = a.on_error == "pass" ? OnError::pass : a.on_error == "skip" ? OnError::skip : OnError::fail;
  ReadOptions ro = a.in.read_options(a.input, false);
  ro.keep_bad_records = on_error != OnError::fail;
  auto reader = RecordReader::open(a.input, ro);
  WriteOptions wo;
  wo.format = a.output_format.empty() ? output_format_from_path(a.output, reader->format())
                                      : *parse_format(a.output_format);
  wo.explain = a.explain;
  wo.error_column = on_error == OnError::pass;
  auto writer = RecordWriter::open(a.output, *reader, wo);
  Progress progress(!a.quiet, reader->total_bytes());
  // A closed output pipe (`logclf classify big.csv | head`) ends the process at once, as it does any
  // filter: nothing is lost that the reader still wanted.
  std::signal(SIGPIPE, SIG_DFL);
  StreamOptions options;
  options.workers = a.workers;
  options.on_error = on_error;
  options.on_batch = [&](const StreamStats& s) { progress.tick(s); };
  // To standard output, an interrupt ends the input: what was read is still written (a file output is
  // removed instead, so that no partial file is left).
  if (a.output == "-") {
    options.stop = &stop_streaming;
    graceful_stop = true;
  }
  StreamStats stats = classify_stream(classifier, *reader, *writer, cache, options);
  graceful_stop = false;
  progress.done();
  return stats;
}

namespace {

int run_classify(const ClassifyArgs& a) {
  Classifier classifier = load_model(a.model_dir, a.encoder);
  if (a.threshold) classifier.set_threshold(*a.threshold);
  const std::unique_ptr<MessageCache> cache = a.cache.make();
  const StreamStats s = classify_file(classifier, a, cache.get());
  // Skipped records are reported even with --quiet: no record leaves without a trace.
  if (s.bad_records > 0 && (!a.quiet || a.on_error == "skip")) {
    std::fprintf(stderr, "%llu bad record%s %s (records read: %llu = %llu classified + %llu bad):\n",
                 static_cast<unsigned long long>(s.bad_records), s.bad_records == 1 ? "" : "s",
                 a.on_error == "skip" ? "skipped" : "written with an error and no label",
                 static_cast<unsigned long long>(s.lines + s.bad_records), static_cast<unsigned long long>(s.lines),
                 static_cast<unsigned long long>(s.bad_records));
    for (const std::string& error : s.first_errors) std::fprintf(stderr, "  %s\n", error.c_str());
    if (s.bad_records > s.first_errors.size())
      std::fprintf(stderr, "  and %llu more\n", static_cast<unsigned long long>(s.bad_records - s.first_errors.size()));
  }
  if (stop_streaming) return 130;  // interrupted: the output holds every line read before
  if (a.quiet) return 0;
  const auto n = static_cast<unsigned long long>(s.lines);
  std::fprintf(stderr, "classified %llu lines in %.2f s (%.0f lines/s)\n", n, s.seconds,
               s.seconds > 0 ? s.lines / s.seconds : 0.0);
  std::fprintf(stderr, "by stage: rule %llu, model %llu, uncertain %llu\n",
               static_cast<unsigned long long>(s.per_stage[0]), static_cast<unsigned long long>(s.per_stage[1]),
               static_cast<unsigned long long>(s.per_stage[2]));
  if (cache)
    std::fprintf(stderr, "cache (%s): %.1f%% hits, %llu of %llu entries used\n", std::string(to_string(cache->mode())).c_str(),
                 100.0 * s.cache.hit_rate(), static_cast<unsigned long long>(s.cache.entries),
                 static_cast<unsigned long long>(cache->capacity()));
  std::fprintf(stderr, "by label:\n");
  for (const auto& [label, count] : s.per_label)
    std::fprintf(stderr, "  %-22s %10llu  %5.1f%%\n", label.c_str(), static_cast<unsigned long long>(count),
                 s.lines ? 100.0 * count / s.lines : 0.0);
  return 0;
}

}  // namespace

void add_classify_command(CLI::App& app, Commands& commands) {
  auto args = std::make_shared<ClassifyArgs>();
  auto* classify_cmd = app.add_subcommand("classify", "label every line of a file (CSV, JSON lines or plain lines)");
  classify_cmd->add_option("INPUT", args->input, "input file, - for standard input")->capture_default_str();
  classify_cmd->add_option("-m,--model", args->model_dir, "model directory (default: the built-in model)");
  classify_cmd->add_option("-o,--output", args->output, "output file, - for standard output")->capture_default_str();
  classify_cmd->add_option("--output-format", args->output_format,
                           "csv, jsonl, json (one JSON array) or lines (default: by the output's extension, else "
                           "like the input)")
      ->check(CLI::IsMember({"csv", "jsonl", "ndjson", "json", "lines", "text", "txt"}));
  classify_cmd->add_flag("--explain", args->explain, "add stage, rule and confidence columns");
  classify_cmd->add_option("--on-error", args->on_error,
                           "a bad record (invalid JSON, wrong field count, ...): fail (stop with its file:line), "
                           "skip (leave it out, count it, list the first on stderr) or pass (write it through in "
                           "its place with an empty label, null in JSON output, and an error column)")
      ->capture_default_str()
      ->check(CLI::IsMember({"fail", "skip", "pass"}));
  classify_cmd->add_option("--threshold", args->threshold, "override the model's threshold")->check(CLI::Range(0.0, 1.0));
  classify_cmd->add_flag("-q,--quiet", args->quiet, "no progress or summary on stderr");
  classify_cmd->add_option("--workers", args->workers,
                           "classifying threads (default: one per core; one for E5, whose forward pass uses every core)")
      ->check(CLI::NonNegativeNumber);
  args->in.add_to(classify_cmd, false);
  args->encoder.add_to(classify_cmd, false);
  args->cache.add_to(classify_cmd, "exact");
  commands.push_back({classify_cmd, [args] {
                        args->quiet = args->quiet || quiet;
                        return run_classify(*args);
                      }});
}

}  // namespace logclf::cli
