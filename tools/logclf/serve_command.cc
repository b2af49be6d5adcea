// `logclf serve`: the HTTP service (src/server).
#include "command.h"

namespace logclf::cli {

void add_serve_command(CLI::App&, Commands&) {}

}  // namespace logclf::cli
