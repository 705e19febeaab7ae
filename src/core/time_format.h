#pragma once
#include <optional>
#include <string>

#include "core/clock.h"

namespace sc {

// RFC 3339 in UTC with second precision: 2026-11-22T15:04:05Z. A time outside
// 1970..9999 is written as the nearer end of that range.
std::string formatTime(TimePoint t);
// The same with milliseconds, for log timestamps.
std::string formatTimeMillis(TimePoint t);
// A compact form for file names: 20261122T150405Z.
std::string formatTimeCompact(TimePoint t);
// Fields out of range (month 13, second 61) are no time; the year is clamped as
// fromUnixSeconds says.
std::optional<TimePoint> parseTime(const std::string& rfc3339);
// Seconds since 1970, clamped to 1970-01-01..9999-12-31T23:59:59Z: every time read
// from outside (a certificate, a state file, a CA's reply) goes through here, so none
// lies beyond what a certificate may say (RFC 5280 4.1.2.5) or before the epoch.
TimePoint fromUnixSeconds(long long seconds);
long long toUnixSeconds(TimePoint t);
// The bounds of fromUnixSeconds, for a time that could not be read.
TimePoint earliestTime();
TimePoint latestTime();

}  // namespace sc
