#include "core/time_format.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>

namespace sc {
namespace {

constexpr long long kLatestSecond = 253402300799;  // 9999-12-31T23:59:59Z

// Clamped as fromUnixSeconds is, so that whatever is written can be read back.
std::tm utc(TimePoint t) {
  std::time_t tt = std::clamp(toUnixSeconds(t), 0LL, kLatestSecond);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  return tm;
}

std::string strftimeUtc(TimePoint t, const char* fmt) {
  std::tm tm = utc(t);
  char buf[64];
  std::size_t n = std::strftime(buf, sizeof buf, fmt, &tm);
  return std::string(buf, n);
}

}  // namespace

std::string formatTime(TimePoint t) { return strftimeUtc(t, "%Y-%m-%dT%H:%M:%SZ"); }

std::string formatTimeMillis(TimePoint t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() % 1000;
  if (ms < 0) ms += 1000;
  char frac[8];
  std::snprintf(frac, sizeof frac, ".%03lld", static_cast<long long>(ms));
  return strftimeUtc(t, "%Y-%m-%dT%H:%M:%S") + frac + "Z";
}

std::string formatTimeCompact(TimePoint t) { return strftimeUtc(t, "%Y%m%dT%H%M%SZ"); }

std::optional<TimePoint> parseTime(const std::string& s) {
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6)
    return std::nullopt;
  std::string rest = s.substr(consumed);
  if (!rest.empty() && rest[0] == '.') {  // fractional seconds are dropped
    std::size_t i = 1;
    while (i < rest.size() && std::isdigit(static_cast<unsigned char>(rest[i]))) ++i;
    rest = rest.substr(i);
  }
  if (rest != "Z" && rest != "+00:00") return std::nullopt;
  if (tm.tm_year < 1 || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
      tm.tm_min > 59 || tm.tm_sec > 60 || tm.tm_hour < 0 || tm.tm_min < 0 || tm.tm_sec < 0)
    return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return fromUnixSeconds(timegm(&tm));
}

TimePoint fromUnixSeconds(long long seconds) {
  return TimePoint(std::chrono::seconds(std::clamp(seconds, 0LL, kLatestSecond)));
}

long long toUnixSeconds(TimePoint t) {
  return std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
}

TimePoint earliestTime() { return fromUnixSeconds(0); }
TimePoint latestTime() { return fromUnixSeconds(kLatestSecond); }

}  // namespace sc
