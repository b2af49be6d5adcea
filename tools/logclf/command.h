// The command table shared by the files of the logclf command line: each file adds its verbs to the
// CLI11 app and registers what runs when one of them is chosen.
#pragma once

#include <CLI/CLI.hpp>

#include <atomic>
#include <cstddef>
#include <functional>
#include <string_view>
#include <vector>

#include "logclf/types.h"

namespace logclf::cli {

struct Command {
  CLI::App* app;
  std::function<int()> run;
};
using Commands = std::vector<Command>;

// -q/--quiet, before the verb or after it: no progress, summaries or notices on standard error (warnings
// and errors still go there). Set by main() once the command line is parsed, before a verb runs.
inline bool quiet = false;

// A bad command line or config file: main() reports it and exits 2, like CLI11's own usage errors.
class UsageError : public Error {
 public:
  using Error::Error;
};

// Optimal string alignment distance (main.cc): for "did you mean" suggestions.
std::size_t edit_distance(std::string_view a, std::string_view b);

// Set by SIGINT / SIGTERM while `classify` streams to standard output: reading stops and what was read is
// still written. A second signal ends the process at once.
inline std::atomic<bool> stop_streaming{false};
inline std::atomic<bool> graceful_stop{false};
// main.cc: SIGINT, SIGTERM and SIGHUP remove the temporary files of unfinished atomic writes, then end the
// process (unless `graceful_stop`); a verb that handles them itself installs its own handlers.
void install_signal_handlers();

// train_command.cc: `logclf train`.
void add_train_command(CLI::App& app, Commands& commands);
// classify_command.cc: `logclf classify`.
void add_classify_command(CLI::App& app, Commands& commands);
// evaluate_command.cc: `logclf evaluate`.
void add_evaluate_command(CLI::App& app, Commands& commands);
// rules_command.cc: `logclf rules test` and `logclf rules check`.
void add_rules_commands(CLI::App& app, Commands& commands);
// corpus_command.cc: `logclf corpus`.
void add_corpus_command(CLI::App& app, Commands& commands);
// serve_command.cc: `logclf serve`.
void add_serve_command(CLI::App& app, Commands& commands);
// kafka_command.cc: `logclf kafka`.
void add_kafka_command(CLI::App& app, Commands& commands);
// embed_command.cc: `logclf embed`.
void add_embed_command(CLI::App& app, Commands& commands);
// model_commands.cc: `logclf model info`, `logclf model download` and `logclf model random`.
void add_model_commands(CLI::App& app, Commands& commands);
// bench_classify_command.cc: `logclf bench classify`.
void add_bench_classify_command(CLI::App& bench_cmd, Commands& commands);
// bench_encoder_command.cc: `logclf bench encoder`.
void add_bench_encoder_command(CLI::App& bench_cmd, Commands& commands);
// bench_stream_command.cc: `logclf bench stream`.
void add_bench_stream_command(CLI::App& bench_cmd, Commands& commands);
// reference_command.cc: `logclf completion bash|zsh` and `logclf manpage`, generated from `app`; added
// last, so that they see every other verb.
void add_reference_commands(CLI::App& app, Commands& commands);

}  // namespace logclf::cli
