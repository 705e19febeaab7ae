#include "renew/ari.h"

#include <functional>

namespace sc::renew {

TimePoint ariRenewalTime(TimePoint windowStart, TimePoint windowEnd, const std::string& serial) {
  auto width = std::chrono::duration_cast<std::chrono::seconds>(windowEnd - windowStart).count();
  if (width <= 0) return windowStart;
  auto offset = static_cast<long long>(std::hash<std::string>{}(serial) % static_cast<std::size_t>(width));
  return windowStart + std::chrono::seconds(offset);
}

}  // namespace sc::renew
