#pragma once
// The pace of new orders at one CA account, shared by every lineage of it. Let's
// Encrypt counts new orders per account (300 per 3 hours) and failed validations
// per hostname (5 per hour), and answers with rateLimited when either is spent;
// with hundreds of lineages on one account, each lineage's own budget
// (order_budget.h) keeps none of that. The pace is a sliding window of the
// orders placed, a hold that a rateLimited reply sets, and a queue of the
// lineages waiting for a turn, most urgent first: each gets a place in time
// (its reservation), so decide() can say when it will be ordered.
//
// PaceBook is the pure part (tested with generated sequences); AccountPace
// wraps it with a lock, for passes run on several threads, and a save that
// must succeed before an order is placed, so a restart cannot exceed the limit.
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"

namespace sc::renew {

// At most `count` events in any `window`; count 0: no limit.
struct PaceLimit {
  int count = 0;
  std::chrono::seconds window{0};
  bool on() const { return count > 0 && window.count() > 0; }
};

struct PaceLimits {
  PaceLimit orders;              // new orders per account
  PaceLimit failedValidations;   // failed validations per hostname per account
};

// What an account's pace remembers across restarts.
struct PaceRecord {
  std::vector<TimePoint> orders;  // new orders placed, in the window
  std::optional<TimePoint> holdUntil;  // a rateLimited reply: no order before this
  std::string holdReason;
  std::map<std::string, std::vector<TimePoint>> failedValidations;  // by hostname
  // Lineages waiting their turn and when (for `status`, which runs apart).
  std::map<std::string, TimePoint> waiting;
};

// How soon a lineage needs its order: the end of the CA or user certificate it
// serves; none (a new lineage, or one serving only a self-signed set) is the most
// urgent of all.
struct Urgency {
  std::optional<TimePoint> servesUntil;
};
bool moreUrgent(const Urgency& a, const Urgency& b);

// When a lineage may order at this account: at <= now means now.
struct PaceAnswer {
  TimePoint at;
  std::string why;  // when later than now: in words, for the log and status
};

// A waiting lineage not seen again this long after its turn has left the queue
// (retired, or its volume unreadable): it no longer holds back the others.
inline constexpr std::chrono::seconds kPaceStaleAfter{120};
// A lineage whose first pass has not said how urgent it is counts as most urgent
// for this long after it joined, so a renewal with weeks left does not take the
// turn of a new name whose pass merely came later; then it no longer counts.
inline constexpr std::chrono::seconds kPaceUnknownFor{30};
// While such lineages are unheard of, one that waits behind them asks again this soon.
inline constexpr std::chrono::seconds kPaceUnknownRecheck{2};
// A rateLimited reply with no Retry-After: held for an hour, the shortest window
// any of Let's Encrypt's limits counts over; asking sooner would most likely be
// refused again, and each refusal counts too.
inline constexpr std::chrono::seconds kRateLimitedDefaultHold{3600};
// The longest hold honoured (as acme/wire.h bounds Retry-After): a hostile CA or
// state file cannot stop ordering for longer.
inline constexpr std::chrono::seconds kRateLimitedMaxHold{7 * 24 * 3600};

class PaceBook {
 public:
  // Who waited before a restart waits no more until its pass says so again.
  PaceBook(PaceLimits limits, PaceRecord record) : limits_(limits), record_(std::move(record)) {
    record_.waiting.clear();
  }

  // A lineage of this account, not yet heard of: see kPaceUnknownFor.
  void enrol(const std::string& lineage, TimePoint now);
  // When `lineage` may order for `names`, given the orders placed, the hold, the
  // hostnames' failed validations and those waiting ahead of it.
  PaceAnswer ask(const std::string& lineage, const Urgency& urgency, const std::vector<std::string>& names,
                 TimePoint now) const;
  // Its pass ended waiting for its turn at `at`; true when that time is news.
  bool wait(const std::string& lineage, const Urgency& urgency, TimePoint at, TimePoint now);
  // Its pass ended needing no order from this account; true when it was waiting.
  bool idle(const std::string& lineage);
  void forget(const std::string& lineage);
  // Counts an order about to be placed, if its turn has come; the answer says why not.
  PaceAnswer take(const std::string& lineage, const Urgency& urgency, const std::vector<std::string>& names,
                  TimePoint now);
  // The order just taken was not placed after all (it could not be saved).
  void untake();
  // A rateLimited reply: no order from this account until `until` (bounded).
  // False when an equal or later hold was already in force.
  bool hold(TimePoint until, const std::string& reason, TimePoint now);
  void validationFailed(const std::string& hostname, TimePoint now);

  const PaceRecord& record() const { return record_; }
  const PaceLimits& limits() const { return limits_; }

 private:
  struct Waiter {
    Urgency urgency;
    TimePoint since;  // first asked: among equals, the earlier goes first
    TimePoint at;     // its reservation
  };
  // How many wait before this lineage; unknownAhead: some of them are not heard of
  // yet; lastTurnAhead: raised to the latest turn of those ahead.
  std::size_t ahead(const std::string& lineage, const Urgency& urgency, TimePoint since, TimePoint now,
                    bool& unknownAhead, TimePoint& lastTurnAhead) const;
  std::optional<PaceAnswer> namesGate(const std::vector<std::string>& names, TimePoint now) const;
  void prune(TimePoint now);

  PaceLimits limits_;
  PaceRecord record_;
  std::map<std::string, Waiter> waiters_;
  std::map<std::string, TimePoint> unknown_;  // enrolled, not heard of yet: since when
};

// The turn the k-th next order gets (k = 0: the next one), given the orders placed
// (any order), the limit and the earliest moment any may be placed.
TimePoint slotFor(std::vector<TimePoint> placed, const PaceLimit& limit, std::size_t k, TimePoint earliest,
                  TimePoint now);

// A PaceBook behind a lock, saved whenever what it remembers changes. An order
// is counted on disk before it is placed: a failed save refuses it.
class AccountPace {
 public:
  using Save = std::function<Status(const PaceRecord&)>;
  AccountPace(std::string ca, PaceLimits limits, PaceRecord record, Save save)
      : ca_(std::move(ca)), book_(limits, std::move(record)), save_(std::move(save)) {}

  const std::string& ca() const { return ca_; }
  PaceLimits limits() const;
  void enrol(const std::string& lineage, TimePoint now);
  PaceAnswer ask(const std::string& lineage, const Urgency& urgency, const std::vector<std::string>& names,
                 TimePoint now) const;
  // Saves when the reservation changed: a failed save is returned (status only).
  Status wait(const std::string& lineage, const Urgency& urgency, TimePoint at, TimePoint now);
  Status idle(const std::string& lineage);
  void forget(const std::string& lineage);
  // ErrorKind::Deferred when it is not this lineage's turn; a failed save places no order.
  Status take(const std::string& lineage, const Urgency& urgency, const std::vector<std::string>& names,
              TimePoint now);
  // True when this hold is news (to be logged once).
  Result<bool> hold(TimePoint until, const std::string& reason, TimePoint now);
  Status validationFailed(const std::vector<std::string>& hostnames, TimePoint now);

 private:
  std::string ca_;
  mutable std::mutex mutex_;
  PaceBook book_;
  Save save_;
};

}  // namespace sc::renew
