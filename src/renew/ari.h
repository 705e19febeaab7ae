#pragma once
#include <string_view>

#include "core/clock.h"

namespace sc::renew {

// A time in the first half of the CA's suggested window (RFC 9773 4.2 asks for
// a random one inside it).
// Derived from a digest of the serial (its SHA-256: the caller has crypto), so
// every pass and every build picks the same moment for the same certificate
// without storing it, and many certificates spread over the window.
TimePoint ariRenewalTime(TimePoint windowStart, TimePoint windowEnd, std::string_view serialDigest);

}  // namespace sc::renew
