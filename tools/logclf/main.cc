// logclf command line: a table of verbs, each a thin layer over the library's public API.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>
#include <nlohmann/json.hpp>

#include "logclf/cache.h"
#include "logclf/classifier.h"
#include "logclf/corpus.h"
#include "logclf/e5.h"
#include "logclf/evaluation.h"
#include "logclf/io.h"
#include "logclf/stream.h"
#include "logclf/train.h"
#include "args.h"
#include "command.h"

namespace {

using namespace logclf;
using logclf::cli::CacheArgs;
using logclf::cli::EncoderArgs;
using logclf::cli::load_model;
using Clock = std::chrono::steady_clock;

struct InputOptions {
  std::string format;  // empty: by extension
  bool strict = false;
  std::string message_column;  // comma-separated names; empty: default_message_fields() of the input's format
  std::string source_column = "source";
  std::string label_column = "target_label";

  void add_to(CLI::App* app, bool with_label) {
    app->add_option("--format", format,
                    "input format: csv, jsonl (json: the same) or lines (default: by extension, else csv)")
        ->check(CLI::IsMember({"csv", "jsonl", "ndjson", "json", "lines", "text", "txt"}));
    app->add_flag("--strict", strict, "reject invalid UTF-8 instead of replacing it with U+FFFD");
    app->add_option("--message-column", message_column,
                    "column / field holding the message, or a comma-separated list: the first present is used "
                    "(default: log_message; for JSON lines log_message,message,log,msg; in JSON a dotted name such as "
                    "event.original is also a path into nested objects)")
        ->check(CLI::Validator(
            [](std::string& v) {
              return v.empty() || v.front() == ',' || v.back() == ',' || v.find(",,") != v.npos
                         ? std::string("an empty name in '") + v + "'"
                         : std::string();
            },
            "NAME[,NAME...]"));
    app->add_option("--source-column", source_column, "column / field holding the source")->capture_default_str();
    if (with_label)
      app->add_option("--label-column", label_column, "column / field holding the true label")->capture_default_str();
  }

  ReadOptions read_options(const std::string& path, bool require_label) const {
    ReadOptions o;
    o.format = format.empty() ? format_from_path(path, Format::csv) : *parse_format(format);
    o.strict_utf8 = strict;
    o.message_fields = default_message_fields(o.format);
    if (!message_column.empty()) {
      o.message_fields.clear();
      for (std::size_t begin = 0, end; begin <= message_column.size(); begin = end + 1) {
        end = std::min(message_column.find(',', begin), message_column.size());
        o.message_fields.push_back(message_column.substr(begin, end - begin));
      }
    }
    o.source_field = source_column;
    o.label_field = label_column;
    o.require_label = require_label;
    return o;
  }
};

// Set by SIGINT / SIGTERM while `classify` streams to standard output: reading stops and what was read is
// still written. A second signal ends the process at once.
std::atomic<bool> stop_streaming{false};
std::atomic<bool> graceful_stop{false};

void install_signal_handlers() {
  // An interrupted run removes its temporary output so no half-written file is left behind.
  auto handler = [](int sig) {
    if (graceful_stop.load() && !stop_streaming.exchange(true)) return;
    remove_pending_temp_files();
    std::signal(sig, SIG_DFL);
    std::raise(sig);
  };
  std::signal(SIGINT, handler);
  std::signal(SIGTERM, handler);
  std::signal(SIGHUP, handler);
}

// ---- train ---------------------------------------------------------------------------------------
// Rules with the lines they decided and their precision (train and evaluate); train's rows add a status.
template <typename Row>
void print_rule_table(const std::vector<Row>& rows) {
  constexpr bool with_status = requires(const Row& r) { r.status; };
  std::size_t width = 4;
  for (const Row& r : rows) width = std::max(width, r.name.size());
  fmt::print("  {:<{}}  {:<20}  {:>8}  {:>9}{}\n", "rule", width, "label", "matched", "precision",
             with_status ? "  status" : "");
  for (const Row& r : rows) {
    std::string status;
    if constexpr (with_status) status = "  " + r.status;
    fmt::print("  {:<{}}  {:<20}  {:>8}  {:>9}{}\n", r.name, width, r.label, r.matched,
               r.matched ? fmt::format("{:.4f}", double(r.correct) / r.matched) : "-", status);
  }
}

struct TrainArgs {
  std::string data, output, rules_file, class_weight = "balanced", C = "auto", calibration = "temperature";
  std::string heatmap, mined_out;
  TrainOptions options;
  InputOptions input;
  EncoderArgs encoder;
};

int run_train(const TrainArgs& a) {
  TrainOptions options = a.options;
  options.class_weight = a.class_weight == "none" ? ClassWeight::none : ClassWeight::balanced;
  options.calibrate = a.calibration == "temperature";
  if (a.C != "auto") options.C = std::stod(a.C);  // checked by the option's validator
  options.encoder = a.encoder.options;
  if (!a.rules_file.empty()) {
    options.rules = RuleSet::load(a.rules_file);
    options.rules_given = true;
  }
  if (!a.mined_out.empty() && options.mine_rules == 0) options.mine_rules = 10;
  options.data_name = std::filesystem::path(a.data).filename().string();
  const auto rows = read_labeled(a.data, a.input.read_options(a.data, true));
  const auto start = Clock::now();
  TrainResult result = train(rows, options);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  fmt::print("rows: {} read, {} excluded by source, {} decided by rules (not used for the head), "
             "{} train, {} held out\n",
             result.rows, result.rows_excluded, result.rows_rule_matched, result.rows_train, result.rows_test);
  fmt::print("head: {} labels, L-BFGS {} iterations ({}), {:.2f} s\n", result.classifier->labels().size(),
             result.iterations, result.converged ? "converged" : "iteration limit reached", seconds);
  std::vector<std::string> left_out;
  for (const RuleReport& r : result.rules)
    if (r.status.starts_with("left out")) left_out.push_back(r.name + " (" + r.label + ")");
  if (!left_out.empty())
    fmt::print("built-in rules left out, their labels are not in the data: {}\n", fmt::join(left_out, ", "));
  for (const RuleReport& r : result.rules)
    if (r.status.starts_with("dropped"))
      fmt::print(stderr, "logclf: warning: rule '{}' ({}) {} (--keep-all-rules keeps it)\n", r.name, r.label, r.status);
  if (!result.rules.empty()) {
    fmt::print("rules on the training rows (first match):\n");
    print_rule_table(result.rules);
  }
  if (result.mined) {
    fmt::print("mined rules: {} templates seen at least {} times with one label decide {} rows{}\n",
               result.mined->size(), options.mine_rules, result.mined_rows,
               options.use_mined_rules ? " (in the model)" : " (not in the model: --use-mined-rules)");
    if (!a.mined_out.empty()) {
      write_file_atomic(a.mined_out, result.mined->text());
      fmt::print("mined rules written to {}\n", a.mined_out);
    }
  }
  if (result.cv_folds > 0) {
    fmt::print("C {} by {}-fold stratified cross-validation on the training rows; temperature {:.3f}\n",
               fmt::format("{:g}", result.C) + (options.C ? " (given)" : " chosen"), result.cv_folds, result.temperature);
    fmt::print("  {:>8}  {:>14}  {:>11}  {:>12}\n", "C", "out-of-fold", "temperature", "out-of-fold");
    fmt::print("  {:>8}  {:>14}  {:>11}  {:>12}\n", "", "log loss", "", "accuracy");
    for (const auto& c : result.candidates)
      fmt::print("  {:>8g}  {:>14.5f}  {:>11.3f}  {:>12.4f}{}\n", c.C, c.log_loss, c.temperature, c.accuracy,
                 c.C == result.C ? "  <" : "");
  } else {
    fmt::print("C {:g}, no calibration{}\n", result.C,
               result.selection_note.empty() ? "" : " (" + result.selection_note + ")");
  }
  if (result.held_out) {
    const ClassificationReport& p = *result.held_out_pipeline;
    fmt::print("\nheld-out report (the pipeline at threshold {}: Uncertain counts as wrong; {} of {} Uncertain{}):\n\n{}",
               options.threshold, result.held_out_uncertain, p.total(),
               result.held_out_by_rule ? fmt::format(", {} decided by rules", result.held_out_by_rule) : "",
               p.text());
    fmt::print("\nheld-out report (head alone, arg-max):\n\n{}", result.held_out->text());
    fmt::print("\nreliability of the head's top probability on the held-out rows:\n{}",
               result.held_out_calibration->text());
    if (!a.heatmap.empty()) {
      write_heatmap_png(p, a.heatmap,
                        fmt::format("logclf: {} held out ({} lines, accuracy {:.3f})", options.data_name, p.total(),
                                    p.accuracy()));
      fmt::print("\nheatmap written to {}\n", a.heatmap);
    }
  }
  result.classifier->save(a.output);
  fmt::print("\nmodel written to {}\n", a.output);
  return 0;
}

// ---- classify ------------------------------------------------------------------------------------
struct ClassifyArgs {
  std::string input = "-", output = "-", model_dir, output_format;
  std::string on_error = "fail";
  bool explain = false, quiet = false;
  std::optional<double> threshold;
  int workers = 0;
  InputOptions in;
  EncoderArgs encoder;
  CacheArgs cache;
};

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

// ---- bench ---------------------------------------------------------------------------------------
// End-to-end classify throughput (read, classify, write) on each input repeated to at least `min_lines`
// records, so short samples are measured over a meaningful run.
int run_bench_classify(const std::vector<std::string>& inputs, const std::string& model_dir, std::uint64_t min_lines,
                       const InputOptions& in, const CacheArgs& in_cache) {
  const Classifier classifier = load_model(model_dir);
  char temp_template[] = "/tmp/logclf-bench-XXXXXX";
  if (::mkdtemp(temp_template) == nullptr) throw Error("cannot create a temporary directory");
  const std::filesystem::path temp = temp_template;
  fmt::print("logclf {} bench classify: model {}, {} hardware threads\n", version(),
             model_dir.empty() ? "built-in" : model_dir, std::thread::hardware_concurrency());
  fmt::print("cache: {}\n", in_cache.mode);
  fmt::print("{:<28} {:>10} {:>9} {:>12} {:>9} {:>9}\n", "input", "lines", "seconds", "lines/s", "rule %", "model %");
  try {
    for (const std::string& input : inputs) {
      const ReadOptions ro = in.read_options(input, false);
      std::uint64_t records = 0;
      {
        auto reader = RecordReader::open(input, ro);
        Record r;
        while (reader->next(r)) ++records;
      }
      if (records == 0) throw Error(input + ": no records");
      std::ifstream file(input, std::ios::binary);
      std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
      if (!text.empty() && text.back() != '\n') text.push_back('\n');
      std::string header;
      if (ro.format == Format::csv) {  // the header appears once; only the rows repeat
        const std::size_t eol = text.find('\n');
        header = text.substr(0, eol + 1);
        text.erase(0, eol + 1);
      }
      const std::uint64_t copies = (min_lines + records - 1) / records;
      const std::string extension = std::filesystem::path(input).extension().string();
      const std::string repeated = (temp / ("input" + extension)).string();
      {
        std::ofstream out(repeated, std::ios::binary);
        out << header;
        for (std::uint64_t c = 0; c < copies; ++c) out << text;
      }
      ClassifyArgs args;
      args.input = repeated;
      args.output = (temp / ("output" + extension)).string();
      args.quiet = true;
      args.in = in;
      const std::unique_ptr<MessageCache> cache = in_cache.make();
      const StreamStats s = classify_file(classifier, args, cache.get());
      fmt::print("{:<28} {:>10} {:>9.3f} {:>12.0f} {:>8.1f}% {:>8.1f}%\n",
                 std::filesystem::path(input).filename().string(), s.lines, s.seconds, s.lines / s.seconds,
                 100.0 * s.per_stage[0] / s.lines, 100.0 * (s.per_stage[1] + s.per_stage[2]) / s.lines);
    }
  } catch (...) {
    std::filesystem::remove_all(temp);
    throw;
  }
  std::filesystem::remove_all(temp);
  return 0;
}

// ---- evaluate ------------------------------------------------------------------------------------
struct EvaluateArgs {
  std::string data, model_dir, heatmap;
  bool json = false;
  std::optional<double> threshold;
  InputOptions in;
  EncoderArgs encoder;
  CacheArgs cache;
};

int run_evaluate(const EvaluateArgs& a) {
  Classifier classifier = load_model(a.model_dir, a.encoder);
  if (a.threshold) classifier.set_threshold(*a.threshold);
  const auto rows = read_labeled(a.data, a.in.read_options(a.data, true));
  const std::unique_ptr<MessageCache> cache = a.cache.make();
  const PipelineEvaluation e = evaluate(classifier, rows, cache.get());
  if (!a.heatmap.empty())
    write_heatmap_png(e.hybrid, a.heatmap,
                      fmt::format("logclf: {} ({} lines, accuracy {:.3f})",
                                  std::filesystem::path(a.data).filename().string(), e.total, e.hybrid.accuracy()));
  if (a.json) {
    fmt::print("{}\n", e.json());
    return 0;
  }
  fmt::print("Hybrid pipeline on {} ({} lines)\n\n{}\n", a.data, e.total, e.hybrid.text());
  fmt::print("Stages: rule {} ({:.1f}%), model {} ({:.1f}%), uncertain {} ({:.1f}%)\n\n", e.by_rule,
             100.0 * e.by_rule / e.total, e.by_model, 100.0 * e.by_model / e.total, e.uncertain,
             100.0 * e.uncertain / e.total);
  if (e.cache_mode)
    fmt::print("Cache ({}): {} of {} lines answered from it ({:.1f}%)\n\n", to_string(*e.cache_mode), e.cache.hits,
               e.cache.lookups, 100.0 * e.cache.hit_rate());
  fmt::print("Rules (coverage {:.1f}%):\n", 100.0 * e.by_rule / e.total);
  print_rule_table(e.rules);
  if (e.model)
    fmt::print("\nModel alone (arg-max, no threshold) on the {} lines no rule decided:\n\n{}\nReliability of its top "
               "probability:\n{}",
               e.model->total(), e.model->text(), e.model_calibration->text());
  fmt::print("\nConfusion matrix (rows: true, columns: predicted):\n{}", e.hybrid.confusion_text());
  if (!a.heatmap.empty()) fmt::print("\nheatmap written to {}\n", a.heatmap);
  return 0;
}

// ---- rules ---------------------------------------------------------------------------------------
int run_rules_test(const std::string& file, const std::string& message, const std::string& source) {
  const RuleSet rules = file == "default" ? RuleSet::defaults() : RuleSet::load(file);
  const auto match = rules.match(message, source);
  if (!match) {
    fmt::print("no rule matches ({} rules tried)\n", rules.size());
    return 1;
  }
  const Rule& r = rules.rules()[*match];
  fmt::print("rule #{} '{}' matches: label '{}'\n  pattern: {}\n", *match + 1, r.name, r.label, r.pattern);
  return 0;
}

int run_rules_check(const std::string& file) {
  const RuleSet rules = file == "default" ? RuleSet::defaults() : RuleSet::load(file);
  for (std::size_t i = 0; i < rules.size(); ++i) {
    const Rule& r = rules.rules()[i];
    fmt::print("{:>3}. {:<28} {:<22} {}{}{}\n", i + 1, r.name, r.label, r.ignore_case ? "(?i)" : "", r.pattern,
               r.sources.empty() ? "" : fmt::format("  [sources: {}]", fmt::join(r.sources, ", ")));
  }
  fmt::print("{} rules OK\n", rules.size());
  return 0;
}

// ---- corpus --------------------------------------------------------------------------------------
int run_corpus(std::size_t count, std::uint64_t seed, const std::string& output) {
  const std::string csv = corpus::generate_csv({count, seed});
  if (output == "-") {
    std::fwrite(csv.data(), 1, csv.size(), stdout);
  } else {
    write_file_atomic(output, csv);
    if (!logclf::cli::quiet) fmt::print(stderr, "{} labelled lines written to {}\n", count, output);
  }
  return 0;
}

// ---- model info ----------------------------------------------------------------------------------
// The metadata as the bundle has it, but for the precision of an E5 model's vectors, which bundles written
// before int8 do not record: theirs were fp32.
std::string describe_metadata(nlohmann::json meta) {
  const auto kind = nlohmann::json::json_pointer("/encoder/kind");
  const auto precision = nlohmann::json::json_pointer("/encoder/params/precision");
  if (meta.contains(kind) && meta.at(kind) == kE5Encoder && meta.contains(precision.parent_pointer()) &&
      !meta.contains(precision))
    meta[precision] = to_string(Precision::fp32);
  return meta.dump(2);
}

// Reads the metadata file only, so that a model on the E5 encoder is described without its weights.
int run_model_info(const std::string& model_dir, const std::string& encoder_kind) {
  if (model_dir.empty()) {
    fmt::print("{}\n", describe_metadata(nlohmann::json::parse(
                           Classifier::builtin_metadata_json(encoder_kind.empty() ? kLexicalEncoder : encoder_kind))));
    return 0;
  }
  const std::string path = (std::filesystem::path(model_dir) / "logclf-model.json").string();
  std::ifstream in(path);
  if (!in) throw Error("'" + model_dir + "' holds no logclf model (" + path + " cannot be read)");
  try {
    fmt::print("{}\n", describe_metadata(nlohmann::json::parse(in)));
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(path + ": invalid JSON: " + e.what());
  }
  return 0;
}

// ---- usage errors and --version -------------------------------------------------------------------
// A usage error (a bad option or value, a missing argument, an unknown command) exits 2, as POSIX
// utilities do; 1 is left to failures of the work itself.
constexpr int kUsageError = 2;

// Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours cost 1.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i)
    for (std::size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

// The first word of the command line that should name a verb (or a verb of a verb: `rules test`) and names
// none, as "unknown command 'X'", with the closest verb when one is near enough to be a typo, else the list.
// Empty when every verb exists. The verbs with verbs of their own take no option with a value, so every
// word not starting with '-' before the last verb is a verb.
std::string unknown_command(const CLI::App& app, int argc, char** argv) {
  const CLI::App* current = &app;
  std::string path;
  for (int i = 1; i < argc; ++i) {
    const std::string_view word = argv[i];
    if (word.starts_with('-')) continue;
    const auto verbs = current->get_subcommands([](const CLI::App*) { return true; });
    if (verbs.empty()) return {};
    const auto named =
        std::find_if(verbs.begin(), verbs.end(), [&](const CLI::App* v) { return v->get_name() == word; });
    if (named != verbs.end()) {
      current = *named;
      path += std::string(word) + " ";
      continue;
    }
    std::string closest, names;
    std::size_t closest_distance = std::string::npos;
    for (const CLI::App* v : verbs) {
      const std::size_t distance = edit_distance(word, v->get_name());
      if (distance < closest_distance) closest_distance = distance, closest = v->get_name();
      names += (names.empty() ? "" : ", ") + v->get_name();
    }
    const std::string message = fmt::format("unknown command '{}{}'", path, word);
    // A typo: at most two edits, or a third of the verb.
    if (closest_distance <= std::max<std::size_t>(2, closest.size() / 3))
      return fmt::format("{}; did you mean '{}{}'?", message, path, closest);
    return fmt::format("{} (commands: {})", message, names);
  }
  return {};
}

// `logclf --version`, and with -v the kernels of the E5 encoder this CPU selects and the features it has.
void print_version(bool verbose, std::FILE* out = stdout) {
  fmt::print(out, "logclf {}\n", version());
  if (!verbose) return;
  const ComputeKernels k = compute_kernels();
  fmt::print(out, "E5 kernels: {}, {} (--precision auto: {})\n", k.fp32, k.int8, to_string(k.automatic));
  std::string features;
  for (const auto& [name, present] : k.cpu_features)
    features += fmt::format("{}{} {}", features.empty() ? "" : ", ", name, present ? "yes" : "no");
  fmt::print(out, "CPU features: {}\n", features);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"logclf: hybrid log classifier (rules, then encoder + logistic regression)"};
  bool show_version = false, verbose = false;
  app.add_flag("--version", show_version, "print the version (with -v, also the compute kernels this CPU selects)");
  app.add_flag("-v,--verbose", verbose,
               "print the version, the E5 kernels this CPU selects and the features it has (on standard error "
               "before a verb runs)");
  app.add_flag("-q,--quiet", logclf::cli::quiet, "no progress, summaries or notices on standard error");
  app.require_subcommand(0, 1);  // one verb, unless --version
  app.fallthrough();             // -q and -v after the verb too

  TrainArgs train_args;
  auto* train_cmd = app.add_subcommand("train", "fit a model on a labelled file and report held-out metrics");
  train_cmd->add_option("DATA", train_args.data, "labelled input (CSV with log_message and target_label)")->required();
  train_cmd->add_option("-o,--output", train_args.output, "model directory to write")->required();
  train_cmd->add_option("--test-size", train_args.options.test_size, "held-out share (0 trains on everything)")
      ->capture_default_str()->check(CLI::Range(0.0, 0.99));
  train_cmd->add_option("--seed", train_args.options.seed, "seed of the stratified split")->capture_default_str();
  train_cmd->add_flag("--refit", train_args.options.refit,
                      "after the held-out report, fit the saved model on every row");
  train_cmd->add_flag("--all-rows", train_args.options.all_rows, "fit the head on rule-matched rows too");
  train_cmd->add_option("--rules", train_args.rules_file,
                        "rules file (default: the built-in rules whose labels are among the training labels)");
  train_cmd->add_flag("--allow-new-labels", train_args.options.allow_new_labels,
                      "keep --rules rules whose label no training row has (a label only rules give)");
  train_cmd->add_option("--min-rule-precision", train_args.options.min_rule_precision,
                        "drop a rule right on fewer of the training rows it decides (when it decides 20 or more)")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0));
  train_cmd->add_flag("--keep-all-rules", train_args.options.keep_all_rules, "keep rules below --min-rule-precision");
  train_cmd->add_option("--mine-rules", train_args.options.mine_rules,
                        "propose a rule for every template seen at least N times with one label")
      ->check(CLI::Range(1, 1000000));
  train_cmd->add_option("--mine-rules-out", train_args.mined_out,
                        "write the proposed rules to this rules file (implies --mine-rules 10 unless given)");
  train_cmd->add_flag("--use-mined-rules", train_args.options.use_mined_rules,
                      "put the mined rules in the model, after the other rules")
      ->needs("--mine-rules");
  train_cmd->add_option("--exclude-source", train_args.options.exclude_sources, "leave out rows from this source")
      ->take_all()->allow_extra_args(false);
  train_cmd->add_option("--C", train_args.C,
                        "inverse L2 regularisation strength, or auto: chosen by cross-validation on the training rows")
      ->capture_default_str()
      ->check(CLI::Validator(
          [](std::string& v) -> std::string {
            if (v == "auto") return {};
            try {
              std::size_t end = 0;
              const double c = std::stod(v, &end);
              if (end == v.size() && c > 0 && std::isfinite(c)) return {};
            } catch (const std::exception&) {
            }
            return "--C must be a positive number or auto, not '" + v + "'";
          },
          "POSITIVE|auto"));
  train_cmd->add_option("--cv-folds", train_args.options.cv_folds,
                        "folds of the cross-validation choosing C (default: 5 up to 2,000 training rows, else 3)")
      ->check(CLI::Range(2, 20));
  train_cmd->add_option("--calibration", train_args.calibration,
                        "temperature: scale the head's probabilities to match its out-of-fold accuracy; none")
      ->capture_default_str()->check(CLI::IsMember({"temperature", "none"}));
  train_cmd->add_option("--heatmap", train_args.heatmap, "write the held-out confusion matrix as a PNG heatmap");
  train_cmd->add_option("--max-iter", train_args.options.max_iter, "L-BFGS iteration limit")->capture_default_str();
  train_cmd->add_option("--class-weight", train_args.class_weight, "balanced or none")
      ->capture_default_str()->check(CLI::IsMember({"balanced", "none"}));
  train_cmd->add_option("--threshold", train_args.options.threshold, "head probability below which a line is Uncertain")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0));
  train_args.input.add_to(train_cmd, true);
  train_args.encoder.add_to(train_cmd, true);

  ClassifyArgs classify_args;
  auto* classify_cmd = app.add_subcommand("classify", "label every line of a file (CSV, JSON lines or plain lines)");
  classify_cmd->add_option("INPUT", classify_args.input, "input file, - for standard input")->capture_default_str();
  classify_cmd->add_option("-m,--model", classify_args.model_dir, "model directory (default: the built-in model)");
  classify_cmd->add_option("-o,--output", classify_args.output, "output file, - for standard output")->capture_default_str();
  classify_cmd->add_option("--output-format", classify_args.output_format,
                           "csv, jsonl, json (one JSON array) or lines (default: by the output's extension, else "
                           "like the input)")
      ->check(CLI::IsMember({"csv", "jsonl", "ndjson", "json", "lines", "text", "txt"}));
  classify_cmd->add_flag("--explain", classify_args.explain, "add stage, rule and confidence columns");
  classify_cmd->add_option("--on-error", classify_args.on_error,
                           "a bad record (invalid JSON, wrong field count, ...): fail (stop with its file:line), "
                           "skip (leave it out, count it, list the first on stderr) or pass (write it through in "
                           "its place with an empty label, null in JSON output, and an error column)")
      ->capture_default_str()
      ->check(CLI::IsMember({"fail", "skip", "pass"}));
  classify_cmd->add_option("--threshold", classify_args.threshold, "override the model's threshold")->check(CLI::Range(0.0, 1.0));
  classify_cmd->add_flag("-q,--quiet", classify_args.quiet, "no progress or summary on stderr");
  classify_cmd->add_option("--workers", classify_args.workers,
                           "classifying threads (default: one per core; one for E5, whose forward pass uses every core)")
      ->check(CLI::NonNegativeNumber);
  classify_args.in.add_to(classify_cmd, false);
  classify_args.encoder.add_to(classify_cmd, false);
  classify_args.cache.add_to(classify_cmd, "exact");

  EvaluateArgs evaluate_args;
  auto* evaluate_cmd = app.add_subcommand("evaluate", "report precision, recall, F1 and the confusion matrix on labelled data");
  evaluate_cmd->add_option("DATA", evaluate_args.data, "labelled input")->required();
  evaluate_cmd->add_option("-m,--model", evaluate_args.model_dir, "model directory (default: the built-in model)");
  evaluate_cmd->add_flag("--json", evaluate_args.json, "print the evaluation as JSON");
  evaluate_cmd->add_option("--heatmap", evaluate_args.heatmap, "write the confusion matrix as a PNG heatmap");
  evaluate_cmd->add_option("--threshold", evaluate_args.threshold, "override the model's threshold")->check(CLI::Range(0.0, 1.0));
  evaluate_args.in.add_to(evaluate_cmd, true);
  evaluate_args.encoder.add_to(evaluate_cmd, false);
  evaluate_args.cache.add_to(evaluate_cmd, "off");

  auto* rules_cmd = app.add_subcommand("rules", "inspect and try rules files");
  rules_cmd->require_subcommand(1);
  std::string rules_file, rules_message, rules_source;
  auto* rules_test = rules_cmd->add_subcommand("test", "show which rule matches a message");
  rules_test->add_option("FILE", rules_file, "rules file, or 'default' for the built-in rules")->required();
  rules_test->add_option("MESSAGE", rules_message, "log message")->required();
  rules_test->add_option("--source", rules_source, "the line's source, for rules with a source filter");
  auto* rules_check = rules_cmd->add_subcommand("check", "validate a rules file and list its rules");
  rules_check->add_option("FILE", rules_file, "rules file, or 'default' for the built-in rules")->required();

  std::size_t corpus_count = 20000;
  std::uint64_t corpus_seed = 1;
  std::string corpus_output = "-";
  auto* corpus_cmd = app.add_subcommand("corpus", "write the generated labelled corpus the default model is trained on");
  corpus_cmd->add_option("-n,--count", corpus_count, "number of lines")->capture_default_str();
  corpus_cmd->add_option("--seed", corpus_seed, "generator seed")->capture_default_str();
  corpus_cmd->add_option("-o,--output", corpus_output, "output CSV, - for standard output")->capture_default_str();

  std::string info_model;
  auto* model_cmd = app.add_subcommand("model", "inspect model bundles");
  model_cmd->require_subcommand(1);
  auto* model_info = model_cmd->add_subcommand("info", "print a bundle's metadata (labels, threshold, training metrics)");
  model_info->add_option("-m,--model", info_model, "model directory (default: the built-in model)");
  std::string info_encoder;
  model_info->add_option("--encoder", info_encoder, "the built-in model of this encoder (lexical or e5-small-v2)")
      ->check(CLI::IsMember({std::string(kLexicalEncoder), std::string(kE5Encoder)}))
      ->excludes("--model");

  std::vector<std::string> bench_inputs;
  std::string bench_model;
  std::uint64_t bench_lines = 100000;
  InputOptions bench_in;
  auto* bench_cmd = app.add_subcommand("bench", "measure throughput");
  bench_cmd->require_subcommand(1);
  auto* bench_classify = bench_cmd->add_subcommand("classify", "end-to-end classify lines/s on each input, repeated");
  bench_classify->add_option("INPUTS", bench_inputs, "input files (CSV, JSON lines or plain lines)")->required();
  bench_classify->add_option("-m,--model", bench_model, "model directory (default: the built-in model)");
  bench_classify->add_option("--lines", bench_lines, "repeat each input to at least this many lines")->capture_default_str();
  bench_in.add_to(bench_classify, false);
  CacheArgs bench_cache;
  bench_cache.add_to(bench_classify, "exact");

  logclf::cli::Commands commands;
  logclf::cli::add_serve_command(app, commands);
  logclf::cli::add_kafka_command(app, commands);
  logclf::cli::add_embed_command(app, commands);
  logclf::cli::add_model_commands(*model_cmd, commands);
  logclf::cli::add_bench_encoder_command(*bench_cmd, commands);
  logclf::cli::add_bench_stream_command(*bench_cmd, commands);
  logclf::cli::add_reference_commands(app, commands);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);  // --help
    if (const std::string unknown = unknown_command(app, argc, argv); !unknown.empty()) {
      fmt::print(stderr, "logclf: error: {}\n", unknown);
      return kUsageError;
    }
    app.exit(e);
    return kUsageError;
  }
  if (show_version) {
    print_version(verbose);
    return 0;
  }
  if (app.get_subcommands().empty()) {
    fmt::print(stderr, "logclf: error: a command is required\n{}", app.help());
    return kUsageError;
  }
  if (verbose) print_version(true, stderr);  // standard output is the verb's
  classify_args.quiet = classify_args.quiet || logclf::cli::quiet;
  install_signal_handlers();
  try {
    for (const auto& c : commands)
      if (*c.app) return c.run();
    if (*train_cmd) return run_train(train_args);
    if (*classify_cmd) return run_classify(classify_args);
    if (*evaluate_cmd) return run_evaluate(evaluate_args);
    if (*rules_test) return run_rules_test(rules_file, rules_message, rules_source);
    if (*rules_check) return run_rules_check(rules_file);
    if (*corpus_cmd) return run_corpus(corpus_count, corpus_seed, corpus_output);
    if (*model_info) return run_model_info(info_model, info_encoder);
    if (*bench_classify) return run_bench_classify(bench_inputs, bench_model, bench_lines, bench_in, bench_cache);
  } catch (const logclf::Error& e) {
    std::fprintf(stderr, "logclf: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "logclf: internal error: %s\n", e.what());
    return 1;
  }
  return 0;
}
