// Internals of the corpus generator: a portable PRNG, the per-line context and the template expander.
//
// Template syntax (kept tiny so that hundreds of templates stay readable):
//   {a|b|c}      one alternative, chosen uniformly; alternatives nest and may be empty ({|x} = optional x)
//   {$name}      a vocabulary slot, {$name:arg} with an argument (e.g. {$n:1:500})
//   \c           the character c literally (for braces and pipes in JSON fragments)
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <span>
#include <string>
#include <string_view>

#include "util/random.h"

namespace logclf::corpus::detail {

// Every random decision goes through the project's portable generator (see util/random.h).
using Rng = util::Random;

// State shared by the slots of one line, so that a value used twice (a project id in an OpenStack request
// header and in its URL, a status code and its reason phrase) agrees with itself.
struct LineContext {
  std::int64_t epoch = 0;        // the line's time, seconds since 1970-01-01 UTC
  std::uint64_t pair_key = 0;    // selects matching entries of paired lists (old name / replacement)
  int status = 0;                // HTTP status, 0 until chosen
  std::string user, host, ip, project, user_hex, instance, compute_host, method;
  std::int64_t pid = 0;
};

struct CivilTime {
  int year, month, day, hour, minute, second, weekday;  // month 1-12, weekday 0 = Sunday
};
CivilTime to_civil(std::int64_t epoch);
extern const std::string_view kMonthAbbrev[12];
extern const std::string_view kDayAbbrev[7];

using SlotFn = void (*)(Rng& rng, LineContext& ctx, std::string_view arg, std::string& out);

// A named slot is either a function or a list of alternatives, each itself a template.
struct Slot {
  SlotFn fn = nullptr;
  std::span<const std::string_view> words;
};

// The slot called `name`, or nullptr.
const Slot* find_slot(std::string_view name);

// Appends one random expansion of `tpl` to `out`. Throws std::logic_error on malformed templates.
void expand(std::string_view tpl, Rng& rng, LineContext& ctx, std::string& out);

// A description of the first syntax problem of `tpl` (unbalanced braces, unknown slot) checked through
// every alternative and slot word list, or an empty string.
std::string check_template(std::string_view tpl);

// Appends `value` in decimal, zero-padded to `width` digits.
void append_int(std::string& out, std::int64_t value, int width = 0);

}  // namespace logclf::corpus::detail
