#include "renew/ari.h"

#include <functional>

namespace sc::renew {

TimePoint ariRenewalTime(TimePoint windowStart, TimePoint windowEnd, const std::string& serial) {
  // Only the first half: the second is left for retries, and a window that ends
  // at expiry (short certificates) never sees a first attempt in its last seconds.
  auto width = std::chrono::duration_cast<std::chrono::seconds>(windowEnd - windowStart).count() / 2;
  if (width <= 0) return windowStart;
  auto offset = static_cast<long long>(std::hash<std::string>{}(serial) % static_cast<std::size_t>(width));
  return windowStart + std::chrono::seconds(offset);
}

}  // namespace sc::renew
