#pragma once
#include <chrono>
#include <string>

#include "core/result.h"

namespace sc {

// "30d", "12h", "90s", "1d12h", "2w". A bare number is refused: "30" could be
// seconds or days, and guessing wrong renews a month late.
Result<std::chrono::seconds> parseDuration(const std::string& text);

// The shortest exact form: 2592000s -> "30d", 5400s -> "1h30m".
std::string formatDuration(std::chrono::seconds d);

}  // namespace sc
