#include "renew/ari.h"

#include <cstdint>

namespace sc::renew {

TimePoint ariRenewalTime(TimePoint windowStart, TimePoint windowEnd, std::string_view serialDigest) {
  // Only the first half: the second is left for retries, and a window that ends
  // at expiry (short certificates) never sees a first attempt in its last seconds.
  auto width = std::chrono::duration_cast<std::chrono::seconds>(windowEnd - windowStart).count() / 2;
  if (width <= 0) return windowStart;
  std::uint64_t pick = 0;  // the digest's first eight bytes, big-endian
  for (std::size_t i = 0; i < 8 && i < serialDigest.size(); ++i)
    pick = (pick << 8) | static_cast<unsigned char>(serialDigest[i]);
  auto offset = static_cast<long long>(pick % static_cast<std::uint64_t>(width));
  return windowStart + std::chrono::seconds(offset);
}

}  // namespace sc::renew
