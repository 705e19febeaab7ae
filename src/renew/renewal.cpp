#include "renew/renewal.h"

#include <algorithm>

namespace sc::renew {

std::chrono::seconds lifetimeMargin(const Validity& v) {
  auto lifetime = std::chrono::duration_cast<std::chrono::seconds>(v.notAfter - v.notBefore);
  return std::min(kDefaultMargin, lifetime / 3);
}

TimePoint nextCheck(TimePoint now, TimePoint renewAt, std::chrono::seconds interval) {
  return std::max(now, std::min(renewAt, now + interval));
}

}  // namespace sc::renew
