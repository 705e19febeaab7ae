#pragma once
// Exactly one sidecert acts for a scope, even while swarm briefly counts two
// tasks of its service (a node that is down but not yet known to be). The lease
// is a label on sidecert's own service, written by compare-and-swap: a service
// update names the version it read, and the managers refuse a stale one; a
// manager cut off from the majority commits nothing. What to do about a lease is
// decided here, from the label, the holder's task and `now`.
#include <optional>
#include <string>

#include "core/clock.h"

namespace sc::swarm {

struct LeaseRecord {
  std::string holder;  // a task ID
  TimePoint expires{};
};

// How long a lease lasts, how often its holder extends it, and how long before
// its end the holder stops acting (for clocks that differ between nodes).
inline constexpr std::chrono::seconds kLeaseFor{45};
inline constexpr std::chrono::seconds kLeaseRenewEvery{15};
inline constexpr std::chrono::seconds kLeaseClockMargin{10};

std::optional<LeaseRecord> parseLease(const std::string& label);
std::string formatLease(const LeaseRecord& lease);

struct LeaseVerdict {
  bool take = false;    // write ourselves in (a new lease, or ours extended)
  std::string why;
  TimePoint askAgainAt{};  // !take: when the holder's lease ends
};

// holderStopped: the holder's task is gone, or its node reported it ended: its
// lease need not be waited out. A task on a node that is down or cut off still
// counts as running (its node cannot say otherwise), so its lease runs out first:
// it may still act until then, and must not find a second sidecert acting.
LeaseVerdict judgeLease(const std::optional<LeaseRecord>& current, const std::string& me, bool holderStopped,
                        TimePoint now);

// Whether the holder may still act on a lease that ends at `expires`.
inline bool leaseValid(TimePoint expires, TimePoint now) { return now + kLeaseClockMargin < expires; }

}  // namespace sc::swarm
