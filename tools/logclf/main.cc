// The logclf command line: global options (--version, -v, -q) and the table of verbs, each in its own
// *_command.cc. main() parses, reports usage errors and runs the chosen verb.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "command.h"
#include "logclf/e5.h"
#include "logclf/io.h"
#include "logclf/types.h"

namespace logclf::cli {

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

}  // namespace logclf::cli

namespace {

using namespace logclf;

// ---- usage errors and --version -------------------------------------------------------------------
// A usage error (a bad option or value, a missing argument, an unknown command) exits 2, as POSIX
// utilities do; 1 is left to failures of the work itself.
constexpr int kUsageError = 2;

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
      const std::size_t distance = logclf::cli::edit_distance(word, v->get_name());
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

  logclf::cli::Commands commands;
  logclf::cli::add_train_command(app, commands);
  logclf::cli::add_classify_command(app, commands);
  logclf::cli::add_evaluate_command(app, commands);
  logclf::cli::add_rules_commands(app, commands);
  logclf::cli::add_corpus_command(app, commands);
  logclf::cli::add_model_commands(app, commands);
  auto* bench_cmd = app.add_subcommand("bench", "measure throughput");
  bench_cmd->require_subcommand(1);
  logclf::cli::add_bench_classify_command(*bench_cmd, commands);
  logclf::cli::add_bench_encoder_command(*bench_cmd, commands);
  logclf::cli::add_bench_stream_command(*bench_cmd, commands);
  logclf::cli::add_serve_command(app, commands);
  logclf::cli::add_kafka_command(app, commands);
  logclf::cli::add_embed_command(app, commands);
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
  logclf::cli::install_signal_handlers();
  try {
    for (const auto& c : commands)
      if (*c.app) return c.run();
  } catch (const logclf::cli::UsageError& e) {
    std::fprintf(stderr, "logclf: error: %s\n", e.what());
    return kUsageError;
  } catch (const logclf::Error& e) {
    std::fprintf(stderr, "logclf: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "logclf: internal error: %s\n", e.what());
    return 1;
  }
  return 0;
}
