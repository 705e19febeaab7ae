// The dns-persist-01 record (draft-01, as Pebble v2.10.1 and Let's Encrypt's
// staging CA read it): what sidecert prints for a person to create, and how it
// judges what DNS answers before it orders anything.
#include "dns/persist_record.h"

#include <gtest/gtest.h>

#include "core/time_format.h"

using namespace sc;
using namespace sc::dns;

namespace {
const TimePoint now = fromUnixSeconds(1'800'000'000);
const std::string kAccount = "https://ca.test/acct/42";
const std::vector<std::string> kIssuers = {"pebble.letsencrypt.org"};
}  // namespace

TEST(PersistRecord, TheRecordAPersonCreates) {
  EXPECT_EQ(persistRecordName("example.test"), "_validation-persist.example.test");
  EXPECT_EQ(persistRecordName("*.example.test"), "_validation-persist.example.test");
  EXPECT_EQ(persistRecordText({"pebble.letsencrypt.org", kAccount, false, std::nullopt}),
            "pebble.letsencrypt.org; accounturi=https://ca.test/acct/42");
  EXPECT_EQ(persistRecordText({"pebble.letsencrypt.org", kAccount, true, fromUnixSeconds(1'900'000'000)}),
            "pebble.letsencrypt.org; accounturi=https://ca.test/acct/42; policy=wildcard; persistUntil=1900000000");
}

TEST(PersistRecord, WhatItPrintsItReadsBack) {
  PersistRecord r{"pebble.letsencrypt.org", kAccount, true, fromUnixSeconds(1'900'000'000)};
  auto back = parsePersistRecord(persistRecordText(r));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->issuer, r.issuer);
  EXPECT_EQ(back->accountUri, r.accountUri);
  EXPECT_TRUE(back->wildcard);
  EXPECT_EQ(back->persistUntil, r.persistUntil);
  // as a person may type it: other spacing, tags in any case
  auto typed = parsePersistRecord("  Pebble.LetsEncrypt.org ;AccountURI=" + kAccount + " ;\tPOLICY=Wildcard");
  ASSERT_TRUE(typed) << typed.error().message;
  EXPECT_EQ(typed->issuer, "pebble.letsencrypt.org");
  EXPECT_TRUE(typed->wildcard);
}

TEST(PersistRecord, AMalformedRecordSaysWhat) {
  const std::pair<std::string, std::string> cases[] = {
      {"; accounturi=x", "no issuer"},
      {"ca.test", "no accounturi"},
      {"ca.test; accounturi=", "accounturi is empty"},
      {"ca.test; accounturi=a;", "empty parameter"},
      {"ca.test; accounturi=a; accounturi=b", "given twice"},
      {"ca.test; accounturi=a b", "spaces"},
      {"ca.test; accounturi=a; persistUntil=soon", "not a number"},
      {"ca.test; accounturi", "not tag=value"},
      {std::string(3000, 'a'), "3000 bytes"},
  };
  for (const auto& [text, why] : cases) {
    auto r = parsePersistRecord(text);
    ASSERT_FALSE(r) << text;
    EXPECT_NE(r.error().message.find(why), std::string::npos) << text << ": " << r.error().message;
  }
  EXPECT_FALSE(parsePersistRecord("ca.test; accounturi=a; policy=other")->wildcard);  // another policy is none
}

TEST(PersistRecord, WhatDnsAnswersIsJudgedBeforeAnyOrder) {
  const std::string good = "pebble.letsencrypt.org; accounturi=" + kAccount;
  EXPECT_EQ(persistRecordProblem({good}, kIssuers, kAccount, false, now), "");
  EXPECT_EQ(persistRecordProblem({"v=spf1 -all", good}, kIssuers, kAccount, false, now), "");  // others beside it
  EXPECT_EQ(persistRecordProblem({}, kIssuers, kAccount, false, now), "no TXT record");
  EXPECT_NE(persistRecordProblem({"other-ca.test; accounturi=" + kAccount}, kIssuers, kAccount, false, now)
                .find("no record names this CA"), std::string::npos);
  EXPECT_NE(persistRecordProblem({"pebble.letsencrypt.org; accounturi=https://ca.test/acct/7"}, kIssuers, kAccount,
                                 false, now).find("another account"), std::string::npos);
  EXPECT_NE(persistRecordProblem({good}, kIssuers, kAccount, true, now).find("policy=wildcard"), std::string::npos);
  EXPECT_EQ(persistRecordProblem({good + "; policy=wildcard"}, kIssuers, kAccount, true, now), "");
  EXPECT_NE(persistRecordProblem({good + "; persistUntil=1700000000"}, kIssuers, kAccount, false, now)
                .find("persistUntil passed"), std::string::npos);
  EXPECT_NE(persistRecordProblem({"pebble.letsencrypt.org; accounturi=" + kAccount + ";"}, kIssuers, kAccount, false,
                                 now).find("malformed"), std::string::npos);
}
