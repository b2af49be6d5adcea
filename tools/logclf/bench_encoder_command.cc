// Filled in with its commands.
#include "command.h"

namespace logclf::cli {

void add_bench_encoder_command(CLI::App&, Commands&) {}

}  // namespace logclf::cli
