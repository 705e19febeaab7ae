// The one gate every order passes, tested as a table of ledgers and moments.
#include "core/time_format.h"
#include "renew/order_budget.h"

#include <gtest/gtest.h>

using namespace sc;
using namespace std::chrono;

namespace {

const TimePoint t0 = fromUnixSeconds(1'800'000'000);
constexpr auto kDay = hours(24);

renew::OrderLedger ordersAt(std::initializer_list<hours> ago) {
  renew::OrderLedger l;
  for (auto h : ago) l.orders.push_back(t0 - h);
  return l;
}

}  // namespace

TEST(OrderBudget, FailureBackoffGrowsToADayAndHonoursTheCa) {
  EXPECT_EQ(renew::failureBackoff(1, seconds(0)), minutes(1));
  EXPECT_EQ(renew::failureBackoff(2, seconds(0)), minutes(10));
  EXPECT_EQ(renew::failureBackoff(3, seconds(0)), hours(1));
  EXPECT_EQ(renew::failureBackoff(4, seconds(0)), hours(6));
  EXPECT_EQ(renew::failureBackoff(5, seconds(0)), hours(24));
  EXPECT_EQ(renew::failureBackoff(400, seconds(0)), hours(24));
  EXPECT_EQ(renew::failureBackoff(1, hours(2)), hours(2));  // never sooner than the CA asked
}

TEST(OrderBudget, TheGateAsATable) {
  renew::OrderBudget budget;  // 5 per 7 days
  struct Case {
    const char* what;
    renew::OrderLedger ledger;
    bool allowed;
    TimePoint notBefore;
  } cases[] = {
      {"nothing ordered yet", {}, true, t0},
      {"four orders this week", ordersAt({1h, 2h, 3h, 4h}), true, t0},
      {"five orders this week: the oldest must leave the window", ordersAt({1h, 2h, 3h, 4h, 50h}), false,
       t0 - hours(50) + 7 * kDay},
      {"five orders, one of them older than the window", ordersAt({1h, 2h, 3h, 4h, 24 * 8h}), true, t0},
      {"six orders: the second oldest frees the budget", ordersAt({1h, 2h, 3h, 4h, 5h, 6h}), false,
       t0 - hours(5) + 7 * kDay},
  };
  for (const auto& c : cases) {
    auto gate = renew::orderGate(c.ledger, budget, t0);
    EXPECT_EQ(gate.allowed, c.allowed) << c.what;
    EXPECT_EQ(gate.notBefore, c.notBefore) << c.what;
    EXPECT_EQ(gate.why.empty(), c.allowed) << c.what;
  }
}

TEST(OrderBudget, AFailureWaitsFromTheEndOfTheAttempt) {
  renew::OrderLedger l;
  TimePoint end = t0 + minutes(7);  // an attempt that began at t0 and took seven minutes
  renew::recordFailure(l, end, seconds(0), "CA down");
  auto gate = renew::orderGate(l, {}, t0 + minutes(7));
  EXPECT_FALSE(gate.allowed);
  EXPECT_EQ(gate.notBefore, end + minutes(1));
  EXPECT_TRUE(renew::orderGate(l, {}, end + minutes(1)).allowed);
  renew::recordFailure(l, end + minutes(2), seconds(0), "CA down");
  EXPECT_EQ(renew::orderGate(l, {}, end + minutes(2)).notBefore, end + minutes(12));
  renew::recordSuccess(l);
  EXPECT_TRUE(renew::orderGate(l, {}, end + minutes(2)).allowed);
  EXPECT_EQ(l.failures, 0);
}

TEST(OrderBudget, TheLaterOfBackoffAndBudgetWins) {
  auto l = ordersAt({1h, 2h, 3h, 4h, 5h});
  renew::recordFailure(l, t0, seconds(0), "x");
  auto gate = renew::orderGate(l, {}, t0);
  EXPECT_EQ(gate.notBefore, t0 - hours(5) + 7 * kDay);
  EXPECT_NE(gate.why.find("budget"), std::string::npos);
}

TEST(OrderBudget, OrdersAheadOfTheClockStillCount) {
  auto l = ordersAt({-2h, -1h, 1h, 2h, 3h});  // the clock went back two hours
  EXPECT_FALSE(renew::orderGate(l, {}, t0).allowed);
  renew::recordOrder(l, {}, t0);
  for (auto t : l.orders) EXPECT_LE(t, t0);
}

TEST(OrderBudget, RecordingForgetsOrdersThatLeftTheWindow) {
  auto l = ordersAt({1h, 24 * 8h, 24 * 30h});
  renew::recordOrder(l, {}, t0);
  EXPECT_EQ(l.orders.size(), 2u);
}
