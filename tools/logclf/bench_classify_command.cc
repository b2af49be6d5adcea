// `logclf bench classify`: end-to-end classify throughput (read, classify, write) on each input.
#include <fmt/format.h>
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "args.h"
#include "classify_file.h"
#include "command.h"
#include "logclf/io.h"
#include "logclf/types.h"

namespace logclf::cli {
namespace {

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

}  // namespace

void add_bench_classify_command(CLI::App& bench_cmd, Commands& commands) {
  struct BenchArgs {
    std::vector<std::string> inputs;
    std::string model;
    std::uint64_t lines = 100000;
    InputOptions in;
    CacheArgs cache;
  };
  auto args = std::make_shared<BenchArgs>();
  auto* bench_classify = bench_cmd.add_subcommand("classify", "end-to-end classify lines/s on each input, repeated");
  bench_classify->add_option("INPUTS", args->inputs, "input files (CSV, JSON lines or plain lines)")->required();
  bench_classify->add_option("-m,--model", args->model, "model directory (default: the built-in model)");
  bench_classify->add_option("--lines", args->lines, "repeat each input to at least this many lines")->capture_default_str();
  args->in.add_to(bench_classify, false);
  args->cache.add_to(bench_classify, "exact");
  commands.push_back({bench_classify, [args] {
                        return run_bench_classify(args->inputs, args->model, args->lines, args->in, args->cache);
                      }});
}

}  // namespace logclf::cli
