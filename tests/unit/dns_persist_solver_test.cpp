// dns-persist-01's solver over a scripted DNS: it orders nothing while the record
// is missing or wrong, and says exactly what to create.
#include "sources/dns_persist_solver.h"

#include <gtest/gtest.h>

#include <map>

#include "core/time_format.h"
#include "store/posix_fs.h"
#include "test_support.h"

using namespace sc;

namespace {

class ScriptedDns final : public dns::Lookup {
 public:
  Result<std::vector<std::string>> txt(const std::string& name) override {
    asked.push_back(name);
    if (failing) return fail("no reply from 192.0.2.53:53 in time");
    return records[name];
  }
  std::map<std::string, std::vector<std::string>> records;
  std::vector<std::string> asked;
  bool failing = false;
};

class FixedTime final : public TimeSource {
 public:
  TimePoint now() const override { return at; }
  TimePoint at = *parseTime("2026-12-04T10:00:00Z");
};

const std::string kAccount = "https://ca.test/acct/7";
const std::vector<std::string> kNames = {"*.example.test", "example.test", "other.test"};

acme::Directory directory() {
  acme::Directory d;
  d.caaIdentities = {"ca.test", "ca-alias.test"};
  return d;
}

}  // namespace

TEST(DnsPersistSolver, NothingIsOrderedWhileARecordIsMissingAndTheErrorGivesTheLineToCreate) {
  ScriptedDns dns;
  FixedTime time;
  sources::DnsPersistSolver solver(dns, {}, time);
  dns.records["_validation-persist.example.test"] = {"ca.test; accounturi=" + kAccount + "; policy=wildcard"};
  auto ready = solver.readyToOrder(kNames, kAccount, directory());
  ASSERT_FALSE(ready);
  EXPECT_TRUE(ready.error().is(ErrorKind::NotReady));
  EXPECT_NE(ready.error().message.find("_validation-persist.other.test. IN TXT \"ca.test; accounturi=" + kAccount + "\""),
            std::string::npos)
      << ready.error().message;
  EXPECT_EQ(dns.asked, (std::vector<std::string>{"_validation-persist.example.test", "_validation-persist.other.test"}));
  dns.records["_validation-persist.other.test"] = {"unrelated text", "ca-alias.test; accounturi=" + kAccount};
  EXPECT_TRUE(solver.readyToOrder(kNames, kAccount, directory()));  // any of the CA's names will do
}

TEST(DnsPersistSolver, AWildcardNeedsThePolicyAndAnExpiredRecordCountsAsNone) {
  ScriptedDns dns;
  FixedTime time;
  sources::DnsPersistSolver solver(dns, {}, time);
  dns.records["_validation-persist.example.test"] = {"ca.test; accounturi=" + kAccount};
  auto noPolicy = solver.readyToOrder({"*.example.test"}, kAccount, directory());
  ASSERT_FALSE(noPolicy);
  EXPECT_NE(noPolicy.error().message.find("lacks policy=wildcard"), std::string::npos) << noPolicy.error().message;
  EXPECT_TRUE(solver.readyToOrder({"example.test"}, kAccount, directory()));  // the apex alone needs none
  dns.records["_validation-persist.example.test"] = {"ca.test; accounturi=" + kAccount + "; persistUntil=1700000000"};
  auto expired = solver.readyToOrder({"example.test"}, kAccount, directory());
  ASSERT_FALSE(expired);
  EXPECT_NE(expired.error().message.find("persistUntil passed"), std::string::npos);
}

TEST(DnsPersistSolver, TheConfiguredIssuerWinsAndADirectoryWithoutOneNeedsIt) {
  ScriptedDns dns;
  FixedTime time;
  sources::DnsPersistSolver configured(dns, {"letsencrypt.org", std::nullopt}, time);
  EXPECT_EQ(*configured.issuerFor(directory()), "letsencrypt.org");
  dns.records["_validation-persist.example.test"] = {"ca.test; accounturi=" + kAccount};
  EXPECT_FALSE(configured.readyToOrder({"example.test"}, kAccount, directory()));  // names only letsencrypt.org
  sources::DnsPersistSolver plain(dns, {}, time);
  auto none = plain.issuerFor(acme::Directory{});
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("SIDECERT_DNS_PERSIST_ISSUER"), std::string::npos);
}

TEST(DnsPersistSolver, TheChallengesAccountAndIssuersAreCheckedBeforeTheCaIsToldAndADnsFailureIsNoVerdict) {
  ScriptedDns dns;
  FixedTime time;
  sources::DnsPersistSolver solver(dns, {}, time);
  acme::ChallengeTask task{"example.test", true, {"dns-persist-01", "https://ca.test/chall/1", "", acme::ChallengeStatus::Pending,
                                                  "https://ca.test/acct/8", {"ca.test"}}, "", false, kAccount};
  dns.records["_validation-persist.example.test"] = {"ca.test; accounturi=" + kAccount + "; policy=wildcard"};
  auto other = solver.present({task});
  ASSERT_FALSE(other);  // the CA says the order's account is acct/8
  EXPECT_NE(other.error().message.find("names another account"), std::string::npos) << other.error().message;
  task.challenge.accountUri = kAccount;
  EXPECT_TRUE(solver.present({task}));
  dns.failing = true;
  auto down = solver.readyToOrder({"example.test"}, kAccount, directory());
  ASSERT_FALSE(down);
  EXPECT_FALSE(down.error().is(ErrorKind::NotReady));  // DNS trouble is a failure to retry, not a verdict
  EXPECT_NE(down.error().message.find("no reply from 192.0.2.53:53"), std::string::npos);
}

TEST(DnsPersistSolver, EachLookIsKeptForStatusWithEveryRecordAndTheTimeItsStateLastChanged) {
  ScriptedDns dns;
  FixedTime time;
  TempDir dir;
  store::PosixFileSystem fs{{dir.path()}};
  store::DnsRecordFile seen(fs, dir.path(), "persist-wild.json");
  sources::DnsPersistSolver solver(dns, {}, time, &seen);
  dns.records["_validation-persist.example.test"] = {"ca.test; accounturi=" + kAccount + "; policy=wildcard"};
  ASSERT_FALSE(solver.readyToOrder(kNames, kAccount, directory()));  // other.test has none
  auto first = seen.load();
  ASSERT_EQ(first.size(), 2u);  // the first missing record does not hide the ones after it
  EXPECT_EQ(first[0].domain, "example.test");
  EXPECT_EQ(first[0].value, "ca.test; accounturi=" + kAccount + "; policy=wildcard");
  EXPECT_EQ(first[0].seen, true);
  EXPECT_EQ(first[1].name, "_validation-persist.other.test");
  EXPECT_EQ(first[1].seen, false);
  time.at += std::chrono::minutes(5);
  ASSERT_FALSE(solver.readyToOrder(kNames, kAccount, directory()));
  EXPECT_EQ(seen.load(), first);  // nothing changed: the times stay those of the first look
  dns.records["_validation-persist.other.test"] = {"ca.test; accounturi=" + kAccount};
  ASSERT_TRUE(solver.readyToOrder(kNames, kAccount, directory()));
  auto later = seen.load();
  EXPECT_EQ(later[0].since, first[0].since);
  EXPECT_EQ(later[1].seen, true);
  EXPECT_EQ(later[1].since, time.at);
}

