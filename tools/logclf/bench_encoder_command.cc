// `logclf bench encoder`: throughput of the E5 encoder's forward pass (BERT + mean pooling + L2) on a
// fixed workload: every message of the seed data set with E5's "passage: " prefix, tokenized up front,
// in batches sorted by length.
#include <fmt/format.h>
#include <malloc.h>
#include <stdlib.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "args.h"
#include "bench_util.h"
#include "command.h"
#include "logclf/corpus.h"
#include "logclf/e5.h"
#include "logclf/encoder.h"
#include "logclf/io.h"
#include "logclf/types.h"

namespace logclf::cli {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kSeedData = "data/synthetic_logs.csv";
constexpr std::string_view kSharedTokenizer = "models/e5-small-v2";
// The size of the seed data set: the synthetic stand-in has as many messages.
constexpr std::size_t kStandInMessages = 2410;

struct BenchArgs {
  std::string encoder_dir, tokenizer_dir, data;
  std::size_t batch = 32;
  int threads = 2;
  Precision precision = Precision::auto_;
  std::string int8_kernel;  // empty: the fastest
  int runs = 1;
  std::uint64_t seed = 0;
};

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Real floating-point work of one forward pass: the linear layers, and the two attention products
// (q·kᵀ and weights·v) per sequence; LayerNorm, GELU, softmax and pooling are not counted.
struct Flops {
  double linear = 0, attention = 0;
};
Flops count_flops(const SentenceEncoder::Shape& c, const std::vector<std::vector<std::int32_t>>& ids) {
  const double h = c.hidden, inter = c.intermediate, layers = c.layers;
  Flops f;
  for (const auto& seq : ids) {
    const double len = static_cast<double>(seq.size());
    f.linear += 2.0 * len * (4.0 * h * h + 2.0 * h * inter) * layers;
    f.attention += 4.0 * len * len * h * layers;
  }
  return f;
}

int run_bench_encoder(const BenchArgs& a) {
  if (a.batch == 0) throw Error("--batch must be at least 1");
  if (a.runs < 1) throw Error("--runs must be at least 1");

  // Tokenizer: the model directory's own, else --tokenizer-dir, $LOGCLF_E5_DIR / Hugging Face cache, shared/.
  std::string tokenizer_dir, tokenizer_from;
  if (!a.encoder_dir.empty()) {
    tokenizer_dir = a.encoder_dir;
    tokenizer_from = "--encoder-dir";
  } else if (!a.tokenizer_dir.empty()) {
    tokenizer_dir = a.tokenizer_dir;
    tokenizer_from = "--tokenizer-dir";
  } else if (const auto found = find_e5_tokenizer_dir()) {
    tokenizer_dir = *found;
    tokenizer_from = "$LOGCLF_E5_DIR or the Hugging Face cache";
  } else if (std::string shared = shared_path(kSharedTokenizer); !shared.empty()) {
    tokenizer_dir = shared;
    tokenizer_from = "shared/" + std::string(kSharedTokenizer);
  } else {
    throw Error("no e5-small-v2 tokenizer found: pass --encoder-dir or --tokenizer-dir, or set $LOGCLF_E5_DIR");
  }

  // Messages: --data, else the seed data set in shared/, else the generated corpus as a stand-in.
  std::vector<std::string> messages;
  std::string data_from;
  const std::string data = a.data.empty() ? shared_path(kSeedData) : a.data;
  if (!data.empty()) {
    ReadOptions ro;
    ro.format = format_from_path(data, Format::csv);
    const std::unique_ptr<RecordReader> reader = RecordReader::open(data, ro);
    for (Record record; reader->next(record);) messages.push_back(std::move(record.message));
    data_from = data;
  } else {
    corpus::GeneratorOptions go;
    go.count = kStandInMessages;
    for (corpus::GeneratedLine& line : corpus::generate(go)) messages.push_back(std::move(line.message));
    data_from = "SYNTHETIC STAND-IN (shared/data/synthetic_logs.csv not found): " +
                std::to_string(kStandInMessages) + " lines of `logclf corpus`";
  }

  // Weights: --encoder-dir, else random weights of E5's exact shape written to a temporary directory, so
  // that both are loaded the same way (config.json + memory-mapped model.safetensors).
  std::unique_ptr<TempDir> temp;
  std::string model_dir = a.encoder_dir;
  std::string weights_from = a.encoder_dir;
  if (model_dir.empty()) {
    temp = std::make_unique<TempDir>("logclf-bench-encoder");
    write_random_e5_model(temp->path(), a.seed, tokenizer_dir);
    // Return the generator's buffers to the system so the RSS below is the model's.
    malloc_trim(0);
    model_dir = temp->path();
    weights_from = fmt::format("random, shaped like e5-small-v2 (seed {})", a.seed);
  }
  EncoderOptions options;
  options.dir = model_dir;
  options.threads = a.threads;
  options.precision = a.precision;
  options.int8_kernel = a.int8_kernel;
  reset_peak_rss();
  const auto load_start = Clock::now();
  const double load_cpu_start = cpu_seconds();
  const SentenceEncoder model = SentenceEncoder::open(options);
  const double load_seconds = seconds_since(load_start);
  const double load_cpu = cpu_seconds() - load_cpu_start;
  const double rss_loaded = process_memory_mb("VmRSS");
  const SentenceEncoder::Shape config = model.shape();

  std::vector<std::vector<std::int32_t>> ids(messages.size());
  const auto tokenize_start = Clock::now();
  for (std::size_t i = 0; i < messages.size(); ++i) ids[i] = model.tokenize("passage: " + messages[i]);
  const double tokenize_seconds = seconds_since(tokenize_start);
  std::stable_sort(ids.begin(), ids.end(), [](const auto& x, const auto& y) { return x.size() < y.size(); });
  std::size_t tokens = 0;
  for (const auto& seq : ids) tokens += seq.size();

  std::vector<std::vector<std::span<const std::int32_t>>> batches;
  for (std::size_t start = 0; start < ids.size(); start += a.batch) {
    std::vector<std::span<const std::int32_t>>& b = batches.emplace_back();
    for (std::size_t i = start; i < std::min(ids.size(), start + a.batch); ++i) b.emplace_back(ids[i]);
  }
  if (batches.empty()) throw Error(data_from + ": no messages");
  const Flops flops = count_flops(config, ids);
  const double total_flops = flops.linear + flops.attention;

  fmt::print("logclf {} bench encoder\n", version());
  fmt::print("weights:   {} ({}): {} layers, hidden {}, {} heads, intermediate {}\n", weights_from,
             a.encoder_dir.empty() ? "no --encoder-dir" : "--encoder-dir", config.layers, config.hidden,
             config.heads, config.intermediate);
  fmt::print("tokenizer: {} (from {})\n", tokenizer_dir, tokenizer_from);
  fmt::print("data:      {}\n", data_from);
  fmt::print("workload:  {} messages with the \"passage: \" prefix, {} tokens (mean {:.1f}, longest {}), "
             "{} batches of up to {} sorted by length; tokenized in {:.0f} ms\n",
             ids.size(), tokens, static_cast<double>(tokens) / ids.size(), ids.back().size(), batches.size(), a.batch,
             tokenize_seconds * 1e3);
  const std::string kernels = model.kernels();
  fmt::print("compute:   {}, {} threads; {:.3f} TFLOP per pass (linear {:.3f}, attention {:.3f})\n", kernels,
             model.threads(), total_flops / 1e12, flops.linear / 1e12, flops.attention / 1e12);
  fmt::print("model:     loaded in {:.0f} ms ({:.0f} ms of CPU); RSS {:.0f} MB after loading\n", load_seconds * 1e3,
             load_cpu * 1e3, rss_loaded);

  std::fflush(stdout);  // the runs take minutes: show the setup at once, also when piped
  std::vector<float> out(a.batch * static_cast<std::size_t>(config.hidden));
  // Warm-up on the longest batch: the activations grow to their largest size once, before timing.
  model.embed_tokens(batches.back(), out.data());
  std::vector<double> rates;
  for (int run = 1; run <= a.runs; ++run) {
    const auto start = Clock::now();
    const double cpu_start = cpu_seconds();
    for (const auto& b : batches) model.embed_tokens(b, out.data());
    const double seconds = seconds_since(start);
    const double cpu = cpu_seconds() - cpu_start;
    rates.push_back(ids.size() / seconds);
    fmt::print("run {}:     {:.2f} s: {:.1f} messages/s, {:.0f} tokens/s, {:.1f} GFLOP/s; {:.1f} s of CPU "
               "({:.1f} GFLOP per CPU-second)\n",
               run, seconds, ids.size() / seconds, tokens / seconds, total_flops / seconds / 1e9, cpu,
               total_flops / cpu / 1e9);
    std::fflush(stdout);
  }
  if (a.runs > 1) {
    const auto [low, high] = std::minmax_element(rates.begin(), rates.end());
    fmt::print("best:      {:.1f} messages/s ({:.1f} GFLOP/s); worst {:.1f}\n", *high,
               *high * total_flops / ids.size() / 1e9, *low);
  }
  fmt::print("memory:    peak RSS {:.0f} MB (loading and embedding)\n", process_memory_mb("VmHWM"));
  return 0;
}

}  // namespace

void add_bench_encoder_command(CLI::App& bench_cmd, Commands& commands) {
  auto args = std::make_shared<BenchArgs>();
  auto* cmd = bench_cmd.add_subcommand(
      "encoder", "E5 encoder forward-pass throughput: messages/s, tokens/s, GFLOP/s, load time, RSS");
  cmd->add_option("--encoder-dir", args->encoder_dir,
                  "model directory (config.json, model.safetensors, tokenizer); default: random weights of "
                  "e5-small-v2's shape");
  cmd->add_option("--tokenizer-dir", args->tokenizer_dir,
                  "tokenizer for random weights (default: $LOGCLF_E5_DIR, the Hugging Face cache, then "
                  "../shared/models/e5-small-v2)");
  cmd->add_option("--data", args->data,
                  "messages to embed (log_message column; default: ../shared/data/synthetic_logs.csv, else a "
                  "generated stand-in)");
  cmd->add_option("--batch", args->batch, "messages per forward pass")->capture_default_str();
  cmd->add_option("--threads", args->threads, "threads (0: every core)")->capture_default_str();
  add_precision_option(cmd, args->precision);
  cmd->add_option("--int8-kernel", args->int8_kernel,
                  "the int8 kernel instead of the fastest this CPU has, to compare them (default: the fastest)")
      ->check(CLI::IsMember({"avx512-vnni", "avx2", "portable"}));
  cmd->add_option("--runs", args->runs, "times to run the whole workload")->capture_default_str();
  cmd->add_option("--seed", args->seed, "seed of the random weights")->capture_default_str();
  commands.push_back({cmd, [args] { return run_bench_encoder(*args); }});
}

}  // namespace logclf::cli
