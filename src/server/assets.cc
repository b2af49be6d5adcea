// Replaced by the generated asset table once the web build is wired in.
#include "server/assets.h"

namespace logclf::server {

const Asset* find_asset(std::string_view) { return nullptr; }

}  // namespace logclf::server
