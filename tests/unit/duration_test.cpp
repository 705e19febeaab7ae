#include <limits>
#include "core/duration.h"
#include "core/time_format.h"

#include <gtest/gtest.h>

using namespace std::chrono;
using sc::formatDuration;
using sc::parseDuration;

TEST(Duration, ParsesEachUnit) {
  EXPECT_EQ(*parseDuration("90s"), seconds(90));
  EXPECT_EQ(*parseDuration("5m"), minutes(5));
  EXPECT_EQ(*parseDuration("12h"), hours(12));
  EXPECT_EQ(*parseDuration("30d"), hours(24 * 30));
  EXPECT_EQ(*parseDuration("2w"), hours(24 * 14));
}

TEST(Duration, ParsesCombinations) {
  EXPECT_EQ(*parseDuration("1d12h"), hours(36));
  EXPECT_EQ(*parseDuration("1h30m15s"), seconds(5415));
  EXPECT_EQ(*parseDuration("0s"), seconds(0));
}

TEST(Duration, RefusesWhatIsNotADuration) {
  for (const char* bad : {"", "30", "d", "30x", "-5d", "1.5h", "30 d", "h30", "99999999999d"}) {
    auto r = parseDuration(bad);
    EXPECT_FALSE(r.has_value()) << bad;
  }
  EXPECT_NE(parseDuration("30").error().message.find("no unit"), std::string::npos);
  EXPECT_NE(parseDuration("30x").error().message.find("unknown unit 'x'"), std::string::npos);
}

TEST(Duration, FormatsShortestExactForm) {
  EXPECT_EQ(formatDuration(hours(24 * 30)), "30d");
  EXPECT_EQ(formatDuration(seconds(5400)), "1h30m");
  EXPECT_EQ(formatDuration(seconds(0)), "0s");
  EXPECT_EQ(formatDuration(seconds(86401)), "1d1s");
}

TEST(TimeFormat, ParsesRfc3339AndRefusesFieldsOutOfRange) {
  EXPECT_EQ(sc::parseTime("2026-11-22T15:04:05Z"), sc::fromUnixSeconds(1795359845));
  EXPECT_EQ(sc::parseTime("2026-11-22T15:04:05.123+00:00"), sc::fromUnixSeconds(1795359845));
  for (const char* bad : {"2026-13-01T00:00:00Z", "2026-00-10T00:00:00Z", "2026-01-32T00:00:00Z",
                          "2026-01-01T24:00:00Z", "2026-01-01T00:60:00Z", "2026-01-01T00:00:00", "0000-01-01T00:00:00Z"})
    EXPECT_FALSE(sc::parseTime(bad)) << bad;
}

TEST(TimeFormat, EveryYearACertificateMaySayIsHeldAndOthersAreClamped) {
  EXPECT_EQ(sc::formatTime(*sc::parseTime("9999-12-31T23:59:59Z")), "9999-12-31T23:59:59Z");
  EXPECT_EQ(sc::toUnixSeconds(*sc::parseTime("9999-12-31T23:59:59Z")), 253402300799);
  EXPECT_EQ(sc::formatTime(*sc::parseTime("2300-01-01T00:00:00Z")), "2300-01-01T00:00:00Z");
  EXPECT_EQ(sc::parseTime("1013-01-02T00:00:00Z"), sc::earliestTime());
  EXPECT_EQ(sc::fromUnixSeconds(-30199910400), sc::earliestTime());
  EXPECT_EQ(sc::fromUnixSeconds(std::numeric_limits<long long>::max()), sc::latestTime());
  EXPECT_EQ(sc::formatTimeCompact(sc::latestTime()), "99991231T235959Z");
  EXPECT_EQ(sc::formatTime(sc::latestTime() + std::chrono::hours(24 * 365)), "9999-12-31T23:59:59Z");
  EXPECT_EQ(sc::formatTimeMillis(sc::fromUnixSeconds(1795359845) + std::chrono::milliseconds(7)),
            "2026-11-22T15:04:05.007Z");
}
