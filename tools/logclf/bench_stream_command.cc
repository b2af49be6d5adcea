// `logclf bench stream`: end-to-end classify throughput, file to file, through the streaming pipeline with
// each cache mode, on a repetitive stream: the seed data set and the Loghub samples repeated and shuffled
// to a million lines (a generated corpus when the shared material is absent). Also measures how many labels
// of the seed data set the template cache changes.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "args.h"
#include "bench_util.h"
#include "command.h"
#include "logclf/cache.h"
#include "logclf/classifier.h"
#include "logclf/corpus.h"
#include "logclf/io.h"
#include "logclf/stream.h"

namespace logclf::cli {
namespace {

namespace fs = std::filesystem;

struct StreamBenchArgs {
  std::uint64_t lines = 1000000;
  std::vector<std::string> caches = {"exact", "off", "template"};
  std::string model_dir;
  EncoderOptions encoder = cli_encoder_options();
  int workers = 0;
  std::size_t cache_size = CacheOptions{}.capacity;
  std::uint64_t seed = 1;
};

struct Row {
  std::string source, message;
};

// The seed data set's rows and every line of the Loghub samples (source: the system's name), or a
// generated corpus; `seed_rows` says how many of the rows are the seed data set's.
std::vector<Row> benchmark_rows(std::size_t& seed_rows, std::string& described) {
  std::vector<Row> rows;
  ReadOptions csv;
  csv.format = Format::csv;
  Record r;
  if (const std::string seed = shared_path("data/synthetic_logs.csv"); !seed.empty()) {
    auto reader = RecordReader::open(seed, csv);
    while (reader->next(r)) rows.push_back({r.source, r.message});
    described = seed;
  }
  seed_rows = rows.size();
  if (const std::string loghub = shared_path("data/loghub"); !loghub.empty()) {
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(loghub))
      if (entry.path().extension() == ".log") files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    ReadOptions lines;
    lines.format = Format::lines;
    for (const fs::path& file : files) {
      const std::string stem = file.stem().string();
      const std::string source = stem.substr(0, stem.find('_'));
      auto reader = RecordReader::open(file.string(), lines);
      while (reader->next(r))
        if (!r.message.empty()) rows.push_back({source, r.message});
      described += fmt::format(" + {}", file.filename().string());
    }
  }
  if (rows.empty()) {
    for (auto& line : corpus::generate({20000, 1})) rows.push_back({line.source, line.message});
    seed_rows = rows.size();
    described = "generated corpus (20,000 lines; the shared material is absent)";
  }
  return rows;
}

void write_input(const std::vector<Row>& rows, std::uint64_t lines, std::uint64_t seed, const std::string& path) {
  std::vector<std::uint32_t> order;
  order.reserve(lines);
  while (order.size() < lines)
    for (std::uint32_t i = 0; i < rows.size() && order.size() < lines; ++i) order.push_back(i);
  std::mt19937_64 rng(seed);
  std::shuffle(order.begin(), order.end(), rng);
  std::ofstream out(path, std::ios::binary);
  out << "timestamp,source,log_message\n";
  std::string line;
  for (std::uint32_t i : order) {
    line = "2025-01-01 00:00:00,";
    append_csv_field(line, rows[i].source);  // quoted only where needed, as CSV files usually are
    line += ',';
    append_csv_field(line, rows[i].message);
    line += '\n';
    out << line;
  }
  if (!out) throw Error("cannot write " + path);
}

// Labels of the seed rows classified in order without a cache and through a template cache.
void template_label_changes(const Classifier& classifier, const std::vector<Row>& rows, std::size_t seed_rows,
                            std::size_t cache_size) {
  MessageCache cache({CacheMode::template_key, cache_size});
  std::size_t changed = 0;
  constexpr std::size_t kChunk = 256;
  std::vector<LogLine> chunk;
  for (std::size_t start = 0; start < seed_rows; start += kChunk) {
    chunk.clear();
    for (std::size_t i = start; i < std::min(seed_rows, start + kChunk); ++i) chunk.push_back({rows[i].message, rows[i].source});
    const auto plain = classifier.classify_batch(chunk);
    const auto cached = classifier.classify_batch(chunk, cache);
    for (std::size_t k = 0; k < chunk.size(); ++k) changed += plain[k].label != cached[k].label;
  }
  fmt::print("template cache on the {} seed lines alone: {} labels changed ({:.3f}%), hit rate {:.1f}%\n",
             seed_rows, changed, 100.0 * static_cast<double>(changed) / static_cast<double>(seed_rows),
             100.0 * cache.stats().hit_rate());
}

int run_bench_stream(const StreamBenchArgs& a) {
  const Classifier classifier = a.model_dir.empty() ? Classifier::load_default(a.encoder) : Classifier::load(a.model_dir, a.encoder);
  TempDir temp("logclf-bench-stream");
  std::size_t seed_rows = 0;
  std::string described;
  const std::vector<Row> rows = benchmark_rows(seed_rows, described);
  const std::string input = (fs::path(temp.path()) / "input.csv").string();
  const std::string output = (fs::path(temp.path()) / "output.csv").string();
  write_input(rows, a.lines, a.seed, input);
  fmt::print("logclf {} bench stream: model {} (encoder {}), {} hardware threads\n", version(),
             a.model_dir.empty() ? "built-in" : a.model_dir, classifier.encoder_kind(), std::thread::hardware_concurrency());
  fmt::print("input: {} lines, {:.0f} MB, {} distinct rows repeated and shuffled ({})\n", a.lines,
             static_cast<double>(fs::file_size(input)) / 1e6, rows.size(), described);
  fmt::print("{:<9} {:>10} {:>9} {:>12} {:>9} {:>12}\n", "cache", "lines", "seconds", "lines/s", "hit rate", "peak RSS MB");
  for (const std::string& mode : a.caches) {
    const auto parsed = parse_cache_mode(mode);
    if (!parsed) throw Error("unknown cache mode '" + mode + "' (off, exact or template)");
    std::unique_ptr<MessageCache> cache;
    if (*parsed != CacheMode::off) cache = std::make_unique<MessageCache>(CacheOptions{*parsed, a.cache_size});
    reset_peak_rss();
    auto reader = RecordReader::open(input, ReadOptions{});
    auto writer = RecordWriter::open(output, *reader, WriteOptions{});
    StreamOptions options;
    options.workers = a.workers;
    const StreamStats s = classify_stream(classifier, *reader, *writer, cache.get(), options);
    fmt::print("{:<9} {:>10} {:>9.3f} {:>12.0f} {:>8.1f}% {:>12.0f}\n", mode, s.lines, s.seconds, s.lines / s.seconds,
               100.0 * s.cache.hit_rate(), process_memory_mb("VmHWM"));
  }
  if (std::find(a.caches.begin(), a.caches.end(), "template") != a.caches.end())
    template_label_changes(classifier, rows, seed_rows, a.cache_size);
  return 0;
}

}  // namespace

void add_bench_stream_command(CLI::App& bench_cmd, Commands& commands) {
  auto args = std::make_shared<StreamBenchArgs>();
  auto* cmd = bench_cmd.add_subcommand(
      "stream", "classify lines/s file to file through the streaming pipeline, per cache mode, on a repetitive stream");
  cmd->add_option("--lines", args->lines, "lines of the generated input")->capture_default_str()->check(CLI::Range(1, 1 << 30));
  cmd->add_option("--cache", args->caches, "cache modes to measure, in order (off, exact, template)")
      ->capture_default_str()
      ->delimiter(',');
  cmd->add_option("--cache-size", args->cache_size, "results the cache keeps")->capture_default_str()->check(CLI::Range(1, 1 << 30));
  cmd->add_option("-m,--model", args->model_dir, "model directory (default: the built-in model)");
  cmd->add_option("--encoder", args->encoder.kind, "without -m: the built-in model of this encoder")
      ->check(CLI::IsMember({std::string(kLexicalEncoder), std::string(kE5Encoder)}));
  cmd->add_option("--encoder-dir", args->encoder.dir, "directory of the E5 weights of an E5 model");
  add_precision_option(cmd, args->encoder.precision);
  cmd->add_option("--workers", args->workers, "classifying threads (default: one per core; one for E5)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--seed", args->seed, "seed of the shuffle")->capture_default_str();
  commands.push_back({cmd, [args] { return run_bench_stream(*args); }});
}

}  // namespace logclf::cli
