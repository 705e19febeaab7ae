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
std::optional<TimePoint> parseTime(const std::string& rfc3339);

}  // namespace sc
