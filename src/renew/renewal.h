#pragma once
// The lifetime rule of renewal (certmagic's): 30 days or a third of the lifetime,
// whichever is shorter, so that a 6-day certificate renews with 2 days left and a
// 90-day one with 30. decide::renewalTime is the one rule that runs: it applies
// this where no margin is configured, and the CA's window where it offers one.
#include <chrono>
#include <optional>

#include "core/clock.h"

namespace sc::renew {

struct Validity {
  TimePoint notBefore;
  TimePoint notAfter;
};

inline constexpr std::chrono::seconds kDefaultMargin = std::chrono::hours(24 * 30);

std::chrono::seconds lifetimeMargin(const Validity& v);

// The earliest of the renewal time and `now + interval`, never in the past.
TimePoint nextCheck(TimePoint now, TimePoint renewAt, std::chrono::seconds interval);

}  // namespace sc::renew
