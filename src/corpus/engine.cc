#include "corpus/engine.h"

#include <stdexcept>

namespace logclf::corpus::detail {

const std::string_view kMonthAbbrev[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
const std::string_view kDayAbbrev[7] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

CivilTime to_civil(std::int64_t epoch) {
  // Howard Hinnant's days-to-civil algorithm; epochs are always positive here.
  const std::int64_t days = epoch / 86400;
  const std::int64_t secs = epoch % 86400;
  const std::int64_t z = days + 719468;
  const std::int64_t era = z / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const int day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  const int year = static_cast<int>(yoe + era * 400 + (month <= 2 ? 1 : 0));
  return {year, month, day, static_cast<int>(secs / 3600), static_cast<int>(secs / 60 % 60),
          static_cast<int>(secs % 60), static_cast<int>((days + 4) % 7)};
}

void append_int(std::string& out, std::int64_t value, int width) {
  if (value < 0) {
    out += '-';
    value = -value;
  }
  char buf[24];
  int n = 0;
  do {
    buf[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  for (int i = n; i < width; ++i) out += '0';
  while (n > 0) out += buf[--n];
}

namespace {

constexpr std::size_t kNone = std::string_view::npos;

// Index of the brace closing the group opened at `open`, honouring nesting and escapes.
std::size_t closing_brace(std::string_view t, std::size_t open) {
  int depth = 0;
  for (std::size_t i = open; i < t.size(); ++i) {
    if (t[i] == '\\') {
      ++i;
    } else if (t[i] == '{') {
      ++depth;
    } else if (t[i] == '}' && --depth == 0) {
      return i;
    }
  }
  return kNone;
}

// Calls visit(alternative) for each top-level alternative of a group body until visit returns true.
template <typename Visit>
void for_each_alternative(std::string_view body, Visit visit) {
  int depth = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= body.size(); ++i) {
    if (i == body.size() || (body[i] == '|' && depth == 0)) {
      if (visit(body.substr(start, i - start))) return;
      start = i + 1;
    } else if (body[i] == '\\') {
      ++i;
    } else if (body[i] == '{') {
      ++depth;
    } else if (body[i] == '}') {
      --depth;
    }
  }
}

void run_slot(std::string_view spec, Rng& rng, LineContext& ctx, std::string& out) {
  const std::size_t colon = spec.find(':');
  const std::string_view name = spec.substr(0, colon);
  const std::string_view arg = colon == kNone ? std::string_view() : spec.substr(colon + 1);
  const Slot* slot = find_slot(name);
  if (slot == nullptr) throw std::logic_error("corpus template: unknown slot $" + std::string(name));
  if (slot->fn != nullptr) {
    slot->fn(rng, ctx, arg, out);
  } else {
    expand(rng.pick(slot->words), rng, ctx, out);
  }
}

}  // namespace

void expand(std::string_view tpl, Rng& rng, LineContext& ctx, std::string& out) {
  for (std::size_t i = 0; i < tpl.size(); ++i) {
    const char c = tpl[i];
    if (c == '\\' && i + 1 < tpl.size()) {
      out += tpl[++i];
      continue;
    }
    if (c != '{') {
      out += c;
      continue;
    }
    const std::size_t close = closing_brace(tpl, i);
    if (close == kNone) throw std::logic_error("corpus template: unbalanced brace in " + std::string(tpl));
    const std::string_view body = tpl.substr(i + 1, close - i - 1);
    i = close;
    if (!body.empty() && body[0] == '$') {
      run_slot(body.substr(1), rng, ctx, out);
      continue;
    }
    std::size_t count = 0;
    for_each_alternative(body, [&](std::string_view) { return ++count, false; });
    std::uint64_t wanted = rng.below(count);
    for_each_alternative(body, [&](std::string_view alt) {
      if (wanted-- != 0) return false;
      expand(alt, rng, ctx, out);
      return true;
    });
  }
}

std::string check_template(std::string_view tpl) {
  for (std::size_t i = 0; i < tpl.size(); ++i) {
    if (tpl[i] == '\\') {
      if (i + 1 == tpl.size()) return "trailing backslash in: " + std::string(tpl);
      ++i;
      continue;
    }
    if (tpl[i] == '}') return "stray '}' in: " + std::string(tpl);
    if (tpl[i] != '{') continue;
    const std::size_t close = closing_brace(tpl, i);
    if (close == kNone) return "unbalanced '{' in: " + std::string(tpl);
    const std::string_view body = tpl.substr(i + 1, close - i - 1);
    i = close;
    std::string problem;
    if (!body.empty() && body[0] == '$') {
      const std::string_view name = body.substr(1, body.find(':') == kNone ? kNone : body.find(':') - 1);
      const Slot* slot = find_slot(name);
      if (slot == nullptr) return "unknown slot $" + std::string(name) + " in: " + std::string(tpl);
      for (std::string_view word : slot->words) {
        problem = check_template(word);
        if (!problem.empty()) return problem;
      }
      continue;
    }
    for_each_alternative(body, [&](std::string_view alt) {
      problem = check_template(alt);
      return !problem.empty();
    });
    if (!problem.empty()) return problem;
  }
  return {};
}

}  // namespace logclf::corpus::detail
