// `logclf corpus`: the generated labelled corpus the built-in lexical model is trained on.
#include <fmt/format.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "command.h"
#include "logclf/corpus.h"
#include "logclf/io.h"

namespace logclf::cli {
namespace {

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

}  // namespace

void add_corpus_command(CLI::App& app, Commands& commands) {
  struct CorpusArgs {
    std::size_t count = 20000;
    std::uint64_t seed = 1;
    std::string output = "-";
  };
  auto args = std::make_shared<CorpusArgs>();
  auto* corpus_cmd = app.add_subcommand("corpus", "write the generated labelled corpus the default model is trained on");
  corpus_cmd->add_option("-n,--count", args->count, "number of lines")->capture_default_str();
  corpus_cmd->add_option("--seed", args->seed, "generator seed")->capture_default_str();
  corpus_cmd->add_option("-o,--output", args->output, "output CSV, - for standard output")->capture_default_str();
  commands.push_back({corpus_cmd, [args] { return run_corpus(args->count, args->seed, args->output); }});
}

}  // namespace logclf::cli
