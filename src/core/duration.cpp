#include "core/duration.h"

#include <cctype>
#include <cstdint>
#include <limits>

namespace sc {
namespace {

struct Unit {
  char symbol;
  std::int64_t seconds;
};
constexpr Unit kUnits[] = {{'w', 7 * 86400}, {'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};

std::int64_t unitSeconds(char c) {
  for (const auto& u : kUnits)
    if (u.symbol == c) return u.seconds;
  return 0;
}

}  // namespace

Result<std::chrono::seconds> parseDuration(const std::string& text) {
  if (text.empty()) return fail("empty duration (expected e.g. 30d, 12h, 90s)");
  std::int64_t total = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t start = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    if (i == start)
      return fail("'" + text + "' is not a duration (expected e.g. 30d, 12h, 90s, 1d12h)");
    if (i - start > 9) return fail("'" + text + "' is too large a duration");
    std::int64_t n = std::stoll(text.substr(start, i - start));
    if (i == text.size())
      return fail("'" + text + "' has no unit (use s, m, h, d or w, e.g. 30d)");
    std::int64_t unit = unitSeconds(text[i]);
    if (unit == 0)
      return fail("'" + text + "' has an unknown unit '" + text[i] + "' (use s, m, h, d or w)");
    ++i;
    total += n * unit;
    if (total > std::int64_t{100} * 366 * 86400) return fail("'" + text + "' is over 100 years");
  }
  return std::chrono::seconds(total);
}

std::string formatDuration(std::chrono::seconds d) {
  std::int64_t s = d.count();
  if (s == 0) return "0s";
  std::string out;
  if (s < 0) {
    out = "-";
    s = -s;
  }
  for (const auto& u : kUnits) {
    if (u.symbol == 'w') continue;  // weeks read worse than days in logs
    if (s >= u.seconds) {
      out += std::to_string(s / u.seconds) + u.symbol;
      s %= u.seconds;
    }
  }
  return out;
}

}  // namespace sc
