// The embedded web assets. web/build.mjs generates the table (web_assets.h) and the assembler file that
// embeds the files with .incbin (web/CMakeLists.txt runs it).
#include "server/assets.h"

#include <algorithm>
#include <iterator>

#include "web_assets.h"

namespace logclf::server {
namespace {

constexpr bool path_less(const Asset& a, const Asset& b) { return a.path < b.path; }

static_assert(std::is_sorted(std::begin(generated::kAssets), std::end(generated::kAssets), path_less),
              "web/build.mjs sorts the table by path");

}  // namespace

const Asset* find_asset(std::string_view path) {
  const auto* end = std::end(generated::kAssets);
  const auto* it = std::lower_bound(std::begin(generated::kAssets), end, path,
                                    [](const Asset& a, std::string_view p) { return a.path < p; });
  return it != end && it->path == path ? it : nullptr;
}

}  // namespace logclf::server
