// Fuzzes the cache's template key: any bytes give a template without a digit (every digit run is masked)
// whose length stays within three times the input's, and the template of a template is itself.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "logclf/cache.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::string once = logclf::message_template(text);
  for (const char c : once)
    if (c >= '0' && c <= '9') std::abort();
  if (once.size() > 3 * text.size() + 6) std::abort();
  if (logclf::message_template(once) != once) std::abort();
  return 0;
}
