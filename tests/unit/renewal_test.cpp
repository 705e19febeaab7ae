#include "core/time_format.h"
#include "renew/renewal.h"

#include <gtest/gtest.h>

using namespace std::chrono;
using sc::TimePoint;
using namespace sc::renew;

namespace {
const TimePoint t0 = sc::fromUnixSeconds(1'800'000'000);
constexpr auto aDay = hours(24);
Validity lasting(hours life) { return {t0, t0 + life}; }
}  // namespace

TEST(Renewal, NinetyDayCertificateRenewsWithThirtyDaysLeft) {
  EXPECT_EQ(lifetimeMargin(lasting(90 * aDay)), 30 * aDay);
  EXPECT_EQ(lifetimeMargin(lasting(365 * aDay)), 30 * aDay);  // never more than 30 days
}

TEST(Renewal, ShortLivedCertificateRenewsAtTwoThirds) {
  EXPECT_EQ(lifetimeMargin(lasting(6 * aDay)), 2 * aDay);  // Let's Encrypt's short-lived profile
  EXPECT_EQ(lifetimeMargin(Validity{t0, t0 + minutes(10)}), seconds(200));
}

TEST(Renewal, NextCheckIsTheEarlierOfRenewalAndInterval) {
  EXPECT_EQ(nextCheck(t0, t0 + 60 * aDay, 7 * aDay), t0 + 7 * aDay);
  EXPECT_EQ(nextCheck(t0, t0 + 2 * aDay, 7 * aDay), t0 + 2 * aDay);
  EXPECT_EQ(nextCheck(t0, t0 - aDay, 7 * aDay), t0);  // never in the past
}
