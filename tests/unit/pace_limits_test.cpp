// The limits each CA account is paced to: the settings', else the CA's known ones.
#include <gtest/gtest.h>

#include "app/account_paces.h"

using namespace sc;
using std::chrono::hours;
using std::chrono::seconds;

TEST(PaceLimits, TheCAsKnownLimitsUnlessASettingSaysOtherwise) {
  Settings s;
  auto le = app::paceLimitsFor(s, app::kLetsEncrypt);
  EXPECT_EQ(le.orders.count, 300);
  EXPECT_EQ(le.orders.window, hours(3));
  EXPECT_EQ(le.failedValidations.count, 5);
  EXPECT_EQ(le.failedValidations.window, hours(1));
  auto staging = app::paceLimitsFor(s, app::kLetsEncryptStaging);
  EXPECT_EQ(staging.orders.count, 1500);
  EXPECT_EQ(staging.orders.window, hours(3));
  EXPECT_EQ(staging.failedValidations.count, 200);
  auto other = app::paceLimitsFor(s, "https://ca.test/dir");
  EXPECT_FALSE(other.orders.on());
  EXPECT_FALSE(other.failedValidations.on());

  s.accountOrderLimit = RateLimit{10, seconds(10)};
  s.validationFailureLimit = RateLimit{};  // "off"
  auto set = app::paceLimitsFor(s, app::kLetsEncrypt);
  EXPECT_EQ(set.orders.count, 10);
  EXPECT_EQ(set.orders.window, seconds(10));
  EXPECT_FALSE(set.failedValidations.on());
  EXPECT_EQ(app::paceLimitsFor(s, "https://ca.test/dir").orders.count, 10);  // a setting holds at any CA
}

TEST(PaceLimits, CheckConfigSaysThemInOneLine) {
  Settings s;
  s.acmeDirectories = {app::kLetsEncrypt};
  auto line = app::describePaceLimits(s);
  EXPECT_NE(line.find("300 new orders per 3h"), std::string::npos) << line;
  EXPECT_NE(line.find("5 failed validations per 1h"), std::string::npos) << line;
  EXPECT_EQ(line.find('\n'), std::string::npos);
}
