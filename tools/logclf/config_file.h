// `--config FILE` of the long-running verbs (`serve`, `kafka`): the file gives any of the verb's options the
// command line does not. Two formats, by extension:
//   .yaml / .yml   a YAML mapping (yaml-cpp): `port: 8000`, `api-key: [k1, k2]`, `fastapi-errors: true`;
//   anything else  TOML's key/value lines: `port = 8000`, `api-key = "k1"`, `# comments`.
// Names are the long option names without `--` (`max_lines` is read as `max-lines`). A section the verb
// declares (kafka's `properties`: librdkafka settings) is a nested YAML mapping or a `[properties]` table.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "command.h"

namespace logclf::cli {

struct ConfigSection {
  std::string name;                   // e.g. "properties"
  std::vector<std::string> entries;   // "KEY=VALUE", in the file's order
};

// Reads `path` and gives each option the command line left unset (count() == 0) its value, with CLI11's
// own conversion and checks. Fills the entries of the `sections` the verb declares. Throws UsageError
// naming the file and line: an unknown option (with the closest name), a bad value, a malformed file.
void apply_config_file(CLI::App& cmd, const std::string& path, std::vector<ConfigSection>& sections);
// The same with the file's text given; `path` names it in errors and chooses the format by its extension.
void apply_config_text(CLI::App& cmd, const std::string& path, const std::string& text,
                       std::vector<ConfigSection>& sections);

}  // namespace logclf::cli
