#pragma once
#include <string>

#include "core/clock.h"

namespace sc::renew {

// A time in the first half of the CA's suggested window (RFC 9773 4.2 asks for
// a random one inside it).
// Derived from the serial, so every pass picks the same moment for the same
// certificate without storing it, and many certificates spread over the window.
TimePoint ariRenewalTime(TimePoint windowStart, TimePoint windowEnd, const std::string& serial);

}  // namespace sc::renew
