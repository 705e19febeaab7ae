#include "renew/renewal.h"

#include <algorithm>

namespace sc::renew {

std::chrono::seconds margin(const Validity& v, std::optional<std::chrono::seconds> configured) {
  if (configured) return *configured;
  auto lifetime = std::chrono::duration_cast<std::chrono::seconds>(v.notAfter - v.notBefore);
  return std::min(kDefaultMargin, lifetime / 3);
}

TimePoint renewalTime(const Validity& v, std::optional<std::chrono::seconds> configured) {
  return v.notAfter - margin(v, configured);
}

bool renewalDue(const Validity& v, std::optional<std::chrono::seconds> configured, TimePoint now) {
  return now >= renewalTime(v, configured);
}

TimePoint nextCheck(TimePoint now, TimePoint renewAt, std::chrono::seconds interval) {
  return std::max(now, std::min(renewAt, now + interval));
}

}  // namespace sc::renew
