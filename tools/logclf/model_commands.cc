// Filled in with its commands.
#include "command.h"

namespace logclf::cli {

void add_model_commands(CLI::App&, Commands&) {}

}  // namespace logclf::cli
