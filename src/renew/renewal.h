#pragma once
// When to renew, as pure functions of the certificate's dates, the setting and
// `now` (certmagic's rule): a configured margin is used as given; unset, 30 days
// or a third of the lifetime, whichever is shorter, so that a 6-day certificate
// renews with 2 days left and a 90-day one with 30.
#include <chrono>
#include <optional>

#include "core/clock.h"

namespace sc::renew {

struct Validity {
  TimePoint notBefore;
  TimePoint notAfter;
};

inline constexpr std::chrono::seconds kDefaultMargin = std::chrono::hours(24 * 30);

std::chrono::seconds margin(const Validity& v, std::optional<std::chrono::seconds> configured);
TimePoint renewalTime(const Validity& v, std::optional<std::chrono::seconds> configured);
bool renewalDue(const Validity& v, std::optional<std::chrono::seconds> configured, TimePoint now);

// The earliest of the renewal time and `now + interval`, never in the past.
TimePoint nextCheck(TimePoint now, TimePoint renewAt, std::chrono::seconds interval);

}  // namespace sc::renew
