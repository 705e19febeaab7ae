#pragma once
// Whether an order may be placed now: the one gate every ACME order passes, a pure
// function of what was ordered and what failed, the budget and `now`. Let's
// Encrypt counts orders, failed validations and duplicate certificates per week,
// and blocks accounts that storm it; this keeps every lineage well inside that,
// whatever else goes wrong.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"

namespace sc::renew {

// At most `orders` orders for one lineage at one CA within `window`. The default
// is Let's Encrypt's duplicate-certificate limit: 5 per 7 days for one set of names.
struct OrderBudget {
  int orders = 5;
  std::chrono::seconds window = std::chrono::hours(24 * 7);
};

// What one lineage did at one CA, kept across restarts.
struct OrderLedger {
  std::vector<TimePoint> orders;  // when each order was placed (recorded before placing it)
  int failures = 0;               // failed attempts in a row
  std::optional<TimePoint> retryAt;  // after a failure: the end of the attempt plus the backoff
  std::string lastError;
  // Not ready (a DNS record not there or not served yet): no failure, nothing was
  // refused; the source is asked again at this time, with no backoff growing.
  std::optional<TimePoint> waitUntil;
  std::string waitingFor;
};

// The wait after the n-th failed attempt in a row: 1 min, 10 min, 1 h, 6 h, then
// daily, as Let's Encrypt's integration guide suggests; never sooner than the CA
// asked (a Retry-After, already range-checked).
std::chrono::seconds failureBackoff(int failures, std::chrono::seconds serverAsked);

struct OrderGate {
  bool allowed = true;
  TimePoint notBefore;  // when not allowed: the earliest moment it will be
  std::string why;      // when not allowed: in words, for the log and status
  bool waiting = false; // closed only by a wait for something not ready yet, no failure or budget
};

OrderGate orderGate(const OrderLedger& ledger, const OrderBudget& budget, TimePoint now);

// Records an order about to be placed; forgets those that left the window.
void recordOrder(OrderLedger& ledger, const OrderBudget& budget, TimePoint now);
// Records how an attempt ended, at `end` (not when it began: a slow attempt
// must not make its retry due at once).
void recordFailure(OrderLedger& ledger, TimePoint end, std::chrono::seconds serverAsked, const std::string& error);
void recordSuccess(OrderLedger& ledger);
// Records that the source was not ready (nothing asked of the CA, or the CA not
// told yet): asked again at `until`; the failure count is left as it is.
void recordNotReady(OrderLedger& ledger, TimePoint until, const std::string& what);

}  // namespace sc::renew
