// Fuzzes the rules loader: any bytes either load as a rule set or raise logclf::Error; a loaded set must
// then match without crashing.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "logclf/rules.h"
#include "logclf/types.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const logclf::RuleSet rules = logclf::RuleSet::parse(text, "fuzz.yaml");
    rules.match(text, "source");
    rules.match("User User1 logged in.");
  } catch (const logclf::Error&) {
  }
  return 0;
}
