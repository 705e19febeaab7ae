#include "renew/order_budget.h"

#include <algorithm>

#include "core/duration.h"
#include "core/time_format.h"

namespace sc::renew {

std::chrono::seconds failureBackoff(int failures, std::chrono::seconds serverAsked) {
  using std::chrono::hours;
  using std::chrono::minutes;
  static constexpr std::chrono::seconds kSchedule[] = {minutes(1), minutes(10), hours(1), hours(6), hours(24)};
  constexpr std::size_t kLast = std::size(kSchedule) - 1;
  auto step = kSchedule[std::min<std::size_t>(static_cast<std::size_t>(std::max(failures, 1)) - 1, kLast)];
  return std::max(step, serverAsked);
}

OrderGate orderGate(const OrderLedger& ledger, const OrderBudget& budget, TimePoint now) {
  OrderGate gate;
  gate.notBefore = now;
  if (ledger.retryAt && now < *ledger.retryAt) {
    gate.allowed = false;
    gate.notBefore = *ledger.retryAt;
    gate.why = "backing off after " + std::to_string(ledger.failures) + " failed attempt" +
               (ledger.failures == 1 ? "" : "s");
  }
  if (ledger.waitUntil && now < *ledger.waitUntil && (gate.allowed || *ledger.waitUntil > gate.notBefore)) {
    gate.waiting = true;
    gate.allowed = false;
    gate.notBefore = *ledger.waitUntil;
    gate.why = "waiting: " + ledger.waitingFor;
  }
  std::vector<TimePoint> inWindow;
  for (auto t : ledger.orders)  // one ahead of the clock (the clock went back) counts as now
    if (t > now - budget.window) inWindow.push_back(std::min(t, now));
  if (static_cast<int>(inWindow.size()) >= budget.orders) {
    std::sort(inWindow.begin(), inWindow.end());
    // The oldest order that must leave the window before one more fits.
    auto freed = inWindow[inWindow.size() - static_cast<std::size_t>(budget.orders)] + budget.window;
    if (gate.allowed || freed > gate.notBefore) {
      gate.waiting = false;
      gate.notBefore = freed;
      gate.why = "the order budget is spent: " + std::to_string(inWindow.size()) + " orders in the last " +
                 formatDuration(budget.window) + " (at most " + std::to_string(budget.orders) + ")";
    }
    gate.allowed = false;
  }
  return gate;
}

void recordOrder(OrderLedger& ledger, const OrderBudget& budget, TimePoint now) {
  std::erase_if(ledger.orders, [&](TimePoint t) { return t <= now - budget.window; });
  for (auto& t : ledger.orders) t = std::min(t, now);
  ledger.orders.push_back(now);
}

void recordFailure(OrderLedger& ledger, TimePoint end, std::chrono::seconds serverAsked, const std::string& error) {
  ledger.waitUntil.reset();  // what was awaited came, and then something failed
  ledger.waitingFor.clear();
  ledger.failures += 1;
  ledger.retryAt = end + failureBackoff(ledger.failures, serverAsked);
  ledger.lastError = error;
}

void recordSuccess(OrderLedger& ledger) {
  ledger.failures = 0;
  ledger.retryAt.reset();
  ledger.lastError.clear();
  ledger.waitUntil.reset();
  ledger.waitingFor.clear();
}

void recordNotReady(OrderLedger& ledger, TimePoint until, const std::string& what) {
  ledger.waitUntil = until;
  ledger.waitingFor = what;
}

}  // namespace sc::renew
