// Fuzzes the --config reader (tools/logclf/config_file.cc) on a verb with options of each kind: any bytes
// either set options or raise UsageError naming the file; nothing else escapes. The first byte picks YAML
// or the TOML key/value form.
#include <CLI/CLI.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "config_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const bool yaml = data[0] & 1;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  CLI::App app{"fuzz"};
  CLI::App* cmd = app.add_subcommand("serve");
  std::string host, model;
  int port = 0;
  double wait = 0;
  std::size_t body = 0;
  bool flag = false;
  std::vector<std::string> origins;
  cmd->add_option("--host", host);
  cmd->add_option("-m,--model", model);
  cmd->add_option("--port", port)->check(CLI::Range(0, 65535));
  cmd->add_option("--batch-wait-ms", wait)->check(CLI::NonNegativeNumber);
  cmd->add_option("--max-body", body)->transform(CLI::AsSizeValue(false));
  cmd->add_flag("--fastapi-errors", flag);
  cmd->add_option("--cors-origin", origins);
  std::string config;
  cmd->add_option("--config", config);
  std::vector<logclf::cli::ConfigSection> sections = {{"properties", {}}};
  try {
    app.parse(std::vector<std::string>{"serve"});
    logclf::cli::apply_config_text(*cmd, yaml ? "fuzz.yaml" : "fuzz.toml", text, sections);
  } catch (const logclf::cli::UsageError&) {
  }
  return 0;
}
