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
  auto v = lasting(90 * aDay);
  EXPECT_EQ(renewalTime(v, std::nullopt), t0 + 60 * aDay);
  EXPECT_FALSE(renewalDue(v, std::nullopt, t0 + 60 * aDay - seconds(1)));
  EXPECT_TRUE(renewalDue(v, std::nullopt, t0 + 60 * aDay));
}

TEST(Renewal, ShortLivedCertificateRenewsAtTwoThirds) {
  auto v = lasting(6 * aDay);  // Let's Encrypt's short-lived profile
  EXPECT_EQ(margin(v, std::nullopt), 2 * aDay);
  EXPECT_EQ(renewalTime(v, std::nullopt), t0 + 4 * aDay);
  auto tenMinutes = Validity{t0, t0 + minutes(10)};
  EXPECT_EQ(renewalTime(tenMinutes, std::nullopt), t0 + seconds(400));
}

TEST(Renewal, ConfiguredMarginIsUsedAsGiven) {
  auto v = lasting(6 * aDay);
  EXPECT_EQ(renewalTime(v, hours(12)), t0 + 6 * aDay - hours(12));
  EXPECT_EQ(renewalTime(v, 30 * aDay), t0 - 24 * aDay);  // longer than the lifetime: always due
  EXPECT_TRUE(renewalDue(v, 30 * aDay, t0));
}

TEST(Renewal, NextCheckIsTheEarlierOfRenewalAndInterval) {
  EXPECT_EQ(nextCheck(t0, t0 + 60 * aDay, 7 * aDay), t0 + 7 * aDay);
  EXPECT_EQ(nextCheck(t0, t0 + 2 * aDay, 7 * aDay), t0 + 2 * aDay);
  EXPECT_EQ(nextCheck(t0, t0 - aDay, 7 * aDay), t0);  // never in the past
}
