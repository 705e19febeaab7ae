// dns-01's solver over a scripted zone: records listed before they are sent,
// served everywhere before the CA is told, removed after, and leftovers of a
// crash or a failed removal cleared by the next run.
#include "sources/dns01_solver.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "core/time_format.h"
#include "store/posix_fs.h"
#include "test_support.h"

using namespace sc;

namespace {

struct Sent {
  std::string server, zone;
  std::vector<dns::TxtChange> changes;
  std::size_t listedBefore;  // records in the journal when the update left
};

class ScriptedZones final : public dns::Zones {
 public:
  explicit ScriptedZones(store::DnsRecordFile& journal) : journal_(journal) {}
  Result<std::string> zoneOf(const std::string& name) override {
    asked.push_back(name);
    return soaOwner;
  }
  Result<std::vector<dns::Server>> authoritativeServers(const std::string&, int) override {
    if (servers.empty()) return fail("no NS");
    return servers;
  }
  Result<std::vector<std::string>> txtAt(const dns::Server& at, const std::string& name) override {
    polls.push_back(at.describe());
    if (lagging.count(at.describe()) && lagging[at.describe()]-- > 0) return std::vector<std::string>{};
    return zone[name];
  }
  Status update(const dns::Server& at, const std::string& z, const std::vector<dns::TxtChange>& changes,
                const std::optional<dns::TsigKey>& key) override {
    EXPECT_TRUE(key && key->name == "k");
    sent.push_back({at.describe(), z, changes, journal_.load().size()});
    if (refuse) return fail("update refused: NOTAUTH");
    for (const auto& c : changes) {
      auto& values = zone[c.name];
      bool there = std::find(values.begin(), values.end(), c.value) != values.end();
      if (c.add && !there) values.push_back(c.value);  // RFC 2136 3.4.2.2: a duplicate is not added
      if (!c.add) values.erase(std::remove(values.begin(), values.end(), c.value), values.end());
    }
    return {};
  }

  std::string soaOwner = "example.test";
  std::vector<dns::Server> servers = {{"192.0.2.1", 53}, {"192.0.2.2", 53}};
  std::map<std::string, int> lagging;  // a secondary that misses the first N asks
  std::map<std::string, std::vector<std::string>> zone;
  std::vector<std::string> asked, polls;
  std::vector<Sent> sent;
  bool refuse = false;

 private:
  store::DnsRecordFile& journal_;
};

class SteppedTime final : public TimeSource {
 public:
  TimePoint now() const override { return at; }
  TimePoint at = *parseTime("2026-12-04T10:00:00Z");
};

class ClockSleeper final : public acme::Sleeper {
 public:
  explicit ClockSleeper(SteppedTime& t) : time_(t) {}
  void sleep(std::chrono::milliseconds d) override {
    ++sleeps;
    time_.at += d;
  }
  bool cancelled() const override { return stopped; }
  int sleeps = 0;
  bool stopped = false;

 private:
  SteppedTime& time_;
};

struct Rig {
  TempDir dir;
  store::PosixFileSystem fs{{dir.path()}};
  store::DnsRecordFile journal{fs, dir.path(), "dns01-wild.json"};
  ScriptedZones dns{journal};
  SteppedTime time;
  ClockSleeper sleeper{time};
  sources::Dns01Options options() {
    sources::Dns01Options o;
    o.server = {"192.0.2.1", 53};
    o.key = dns::TsigKey{"k", "hmac-sha256", "c2VjcmV0"};
    o.propagationTimeout = std::chrono::seconds(60);
    o.pollEvery = std::chrono::milliseconds(2000);
    return o;
  }
};

acme::ChallengeTask task(const std::string& identifier, bool wildcard, const std::string& token, bool answered = false) {
  acme::ChallengeTask t;
  t.identifier = identifier;
  t.wildcard = wildcard;
  t.challenge.type = "dns-01";
  t.challenge.token = token;
  t.keyAuthorization = token + ".thumb";
  t.answered = answered;
  return t;
}

}  // namespace

TEST(Dns01Solver, TheRecordIsTheBase64urlSha256OfTheKeyAuthorization) {
  EXPECT_EQ(sources::dns01RecordName("example.test"), "_acme-challenge.example.test");
  EXPECT_EQ(sources::dns01RecordValue("tok.thumb"), "sYAwVrqDtVOuJZvAHurSAYPoEt5fFV_C4bdSOOW-o5Y");
}

TEST(Dns01Solver, RecordsAreListedBeforeTheyAreSentServedEverywhereBeforeTheCaIsToldAndRemovedAfter) {
  Rig rig;
  rig.dns.lagging["192.0.2.2:53"] = 3;  // the secondary takes three asks to catch up
  sources::Dns01Solver solver(rig.dns, rig.journal, rig.sleeper, rig.time, rig.options());
  // a wildcard and its apex: two values at one name
  ASSERT_TRUE(solver.present({task("example.test", true, "tok1"), task("example.test", false, "tok2")}));
  ASSERT_EQ(rig.dns.sent.size(), 1u);
  EXPECT_EQ(rig.dns.sent[0].zone, "example.test");
  EXPECT_EQ(rig.dns.sent[0].listedBefore, 2u);  // written down before the update left
  EXPECT_EQ(rig.dns.zone["_acme-challenge.example.test"],
            (std::vector<std::string>{sources::dns01RecordValue("tok1.thumb"), sources::dns01RecordValue("tok2.thumb")}));
  EXPECT_EQ(rig.sleeper.sleeps, 3);  // until the secondary served both
  EXPECT_GE(std::count(rig.dns.polls.begin(), rig.dns.polls.end(), "192.0.2.2:53"), 4);
  solver.cleanUp();
  ASSERT_EQ(rig.dns.sent.size(), 2u);
  EXPECT_FALSE(rig.dns.sent[1].changes[0].add);
  EXPECT_TRUE(rig.dns.zone["_acme-challenge.example.test"].empty());
  EXPECT_TRUE(rig.journal.load().empty());
}

TEST(Dns01Solver, ARecordNoServerServesInTimeFailsBeforeTheCaIsToldAndIsStillRemoved) {
  Rig rig;
  rig.dns.lagging["192.0.2.2:53"] = 1000;
  sources::Dns01Solver solver(rig.dns, rig.journal, rig.sleeper, rig.time, rig.options());
  auto presented = solver.present({task("example.test", false, "tok")});
  ASSERT_FALSE(presented);
  EXPECT_NE(presented.error().message.find("after 60 s, 192.0.2.2:53 does not serve the TXT record _acme-challenge.example.test"),
            std::string::npos)
      << presented.error().message;
  EXPECT_EQ(rig.sleeper.sleeps, 30);  // 60 s at one ask every 2 s
  solver.cleanUp();
  EXPECT_TRUE(rig.dns.zone["_acme-challenge.example.test"].empty());
  EXPECT_TRUE(rig.journal.load().empty());
}

TEST(Dns01Solver, AStopEndsTheWaitAtOnce) {
  Rig rig;
  rig.dns.lagging["192.0.2.1:53"] = 1000;
  rig.sleeper.stopped = true;
  sources::Dns01Solver solver(rig.dns, rig.journal, rig.sleeper, rig.time, rig.options());
  auto presented = solver.present({task("example.test", false, "tok")});
  ASSERT_FALSE(presented);
  EXPECT_TRUE(presented.error().is(ErrorKind::Cancelled));
  EXPECT_EQ(rig.sleeper.sleeps, 0);
  EXPECT_EQ(rig.journal.load().size(), 1u);  // left for the next start to remove
}

TEST(Dns01Solver, WhatACrashLeftIsRemovedByTheNextRunButAnAnsweredChallengesRecordStays) {
  Rig rig;
  {
    sources::Dns01Solver crashed(rig.dns, rig.journal, rig.sleeper, rig.time, rig.options());
    ASSERT_TRUE(crashed.present({task("example.test", false, "old"), task("www.example.test", false, "kept")}));
  }  // no cleanUp: the process died
  ASSERT_EQ(rig.journal.load().size(), 2u);
  sources::Dns01Solver next(rig.dns, rig.journal, rig.sleeper, rig.time, rig.options());
  // the resumed order's www challenge was answered before the crash: its record stays
  ASSERT_TRUE(next.present({task("example.test", false, "new"), task("www.example.test", false, "kept", true)}));
  EXPECT_EQ(rig.dns.zone["_acme-challenge.example.test"], (std::vector<std::string>{sources::dns01RecordValue("new.thumb")}));
  EXPECT_EQ(rig.dns.zone["_acme-challenge.www.example.test"],
            (std::vector<std::string>{sources::dns01RecordValue("kept.thumb")}));
  next.cleanUp();
  EXPECT_TRUE(rig.dns.zone["_acme-challenge.example.test"].empty());
  EXPECT_TRUE(rig.dns.zone["_acme-challenge.www.example.test"].empty());
  // and with no order at all, tidyUp clears a list a failed removal left
  rig.journal.save({{"_acme-challenge.example.test", "stale", "192.0.2.1:53", "example.test"}});
  rig.dns.zone["_acme-challenge.example.test"] = {"stale"};
  next.tidyUp();
  EXPECT_TRUE(rig.dns.zone["_acme-challenge.example.test"].empty());
  EXPECT_TRUE(rig.journal.load().empty());
}

TEST(Dns01Solver, ARemovalTheServerRefusesStaysListedForTheNextRun) {
  Rig rig;
  sources::Dns01Solver solver(rig.dns, rig.journal, rig.sleeper, rig.time, rig.options());
  ASSERT_TRUE(solver.present({task("example.test", false, "tok")}));
  rig.dns.refuse = true;
  solver.cleanUp();
  ASSERT_EQ(rig.journal.load().size(), 1u);
  rig.dns.refuse = false;
  solver.tidyUp();
  EXPECT_TRUE(rig.journal.load().empty());
  EXPECT_TRUE(rig.dns.zone["_acme-challenge.example.test"].empty());
}

TEST(Dns01Solver, AZoneThatDoesNotHoldTheNameIsRefusedBeforeAnyOrder) {
  Rig rig;
  rig.dns.soaOwner = "attacker.test";  // a hostile resolver's SOA
  sources::Dns01Solver solver(rig.dns, rig.journal, rig.sleeper, rig.time, rig.options());
  auto ready = solver.readyToOrder({"*.example.test", "example.test"}, "", {});
  ASSERT_FALSE(ready);
  EXPECT_NE(ready.error().message.find("_acme-challenge.example.test is not in the zone attacker.test"), std::string::npos)
      << ready.error().message;
  EXPECT_TRUE(rig.dns.sent.empty());
  auto options = rig.options();
  options.zone = "other.test";
  sources::Dns01Solver configured(rig.dns, rig.journal, rig.sleeper, rig.time, options);
  auto wrong = configured.readyToOrder({"example.test"}, "", {});
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.error().message.find("set SIDECERT_DNS_ZONE to the zone that holds it"), std::string::npos);
  rig.dns.soaOwner = "example.test";
  rig.dns.asked.clear();
  sources::Dns01Solver found(rig.dns, rig.journal, rig.sleeper, rig.time, rig.options());
  EXPECT_TRUE(found.readyToOrder({"*.example.test", "www.example.test"}, "", {}));
  EXPECT_EQ(rig.dns.asked, (std::vector<std::string>{"_acme-challenge.example.test", "_acme-challenge.www.example.test"}));
}

TEST(Dns01Solver, AHostileJournalIsReadWithinBounds) {
  TempDir dir;
  store::PosixFileSystem fs{{dir.path()}};
  store::DnsRecordFile journal(fs, dir.path(), "dns01-wild.json");
  std::string many = "{\"records\":[";
  for (int i = 0; i < 500; ++i) many += std::string(i ? "," : "") + R"({"server":"192.0.2.1:53","zone":"z","name":"n","value":"v"})";
  dir.write("dns01-wild.json", many + R"(,{"server":1},"text",{"zone":"z"}]})");
  EXPECT_EQ(journal.load().size(), 200u);
  dir.write("dns01-wild.json", "{not json");
  EXPECT_TRUE(journal.load().empty());
}
