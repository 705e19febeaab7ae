#pragma once
#include <optional>
#include <string>

#include "core/clock.h"

namespace sc {

// RFC 3339 in UTC with second precision: 2026-11-22T15:04:05Z.
std::string formatTime(TimePoint t);
// The same with milliseconds, for log timestamps.
std::string formatTimeMillis(TimePoint t);
// A compact form for file names: 20261122T150405Z.
std::string formatTimeCompact(TimePoint t);
// Fields out of range (month 13, second 61) are no time; the year is clamped as
// fromUnixSeconds says.
std::optional<TimePoint> parseTime(const std::string& rfc3339);
// Seconds since 1970, clamped to 1970..2200. TimePoint's 64-bit nanoseconds end in
// 2262 and a certificate may say 9999 (RFC 5280 4.1.2.5); the margin leaves room to
// add decades to any time read.
TimePoint fromUnixSeconds(long long seconds);

}  // namespace sc
