// dns-01's solver over a scripted zone: records listed before they are sent,
// served everywhere before the CA is told, removed after, and leftovers of a
// crash or a failed removal cleared by the next run.
#include "sources/dns01_solver.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "core/time_format.h"
#include "log/log.h"
#include "store/posix_fs.h"
#include "test_support.h"

using namespace sc;

namespace {

struct Sent {
  std::string server, zone;
  std::vector<dns::TxtChange> changes;
  std::size_t listedBefore;  // records in the journal when the update left
};

class SteppedTime final : public TimeSource {
 public:
  TimePoint now() const override { return at; }
  TimePoint at = *parseTime("2026-12-04T10:00:00Z");
};

class ScriptedZones final : public dns::Zones {
 public:
  ScriptedZones(store::DnsRecordFile& journal, SteppedTime& time) : journal_(journal), time_(time) {}
  Result<std::string> zoneOf(const std::string& name) override {
    asked.push_back(name);
    return soaOwner;
  }
  Result<dns::ZoneServers> authoritativeServers(const std::string&, std::chrono::milliseconds budget, int) override {
    budgets.push_back(budget);
    time_.at += std::min(discoveryTakes, std::chrono::duration_cast<std::chrono::milliseconds>(budget));
    if (servers.empty() && unresolved.empty()) return fail("ask 192.0.2.53:53 for example.test: timed out");
    return dns::ZoneServers{servers, unresolved};
  }
  Result<dns::Answer> txtAt(const dns::Server& at, const std::string& name) override {
    polls.push_back(at.describe());
    if (stopped) return failAs(ErrorKind::Cancelled, "stopped");
    dns::Answer a;
    a.authoritative = !cached.count(at.describe());
    if (lagging.count(at.describe()) && lagging[at.describe()]-- > 0) return a;
    a.values = zone[name];
    return a;
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
  std::vector<std::string> unresolved;  // NS names that gave no address
  std::chrono::milliseconds discoveryTakes{0};
  std::map<std::string, int> lagging;  // a secondary that misses the first N asks
  std::set<std::string> cached;        // servers that answer without AA (not serving the zone)
  std::map<std::string, std::vector<std::string>> zone;
  std::vector<std::string> asked, polls;
  std::vector<std::chrono::milliseconds> budgets;
  std::vector<Sent> sent;
  bool refuse = false, stopped = false;

 private:
  store::DnsRecordFile& journal_;
  SteppedTime& time_;
};

struct Rig {
  TempDir dir;
  store::PosixFileSystem fs{{dir.path()}};
  store::DnsRecordFile journal{fs, dir.path(), "dns01-wild.json"};
  SteppedTime time;
  ScriptedZones dns{journal, time};
  sources::Dns01Options options() {
    sources::Dns01Options o;
    o.server = {"192.0.2.1", 53};
    o.key = dns::TsigKey{"k", "hmac-sha256", "c2VjcmV0"};
    o.propagationTimeout = std::chrono::seconds(60);
    o.pollEvery = std::chrono::milliseconds(1500);
    return o;
  }
  sources::Dns01Solver solver() { return sources::Dns01Solver(dns, journal, time, options()); }
};

// present() as the caller drives it: again after each NotReady's retryAfter,
// at most `calls` times. The last result, and how many present() calls it took.
std::pair<Status, int> presentUntilDone(Rig& rig, sources::Dns01Solver& solver,
                                        const std::vector<acme::ChallengeTask>& tasks, int calls = 100) {
  Status last;
  for (int i = 1; i <= calls; ++i) {
    last = solver.present(tasks);
    if (last || !last.error().is(ErrorKind::NotReady)) return {last, i};
    EXPECT_EQ(last.error().retryAfter, std::chrono::seconds(2));  // 1.5 s, in whole seconds
    rig.time.at += last.error().retryAfter;
  }
  return {last, calls};
}

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
  auto solver = rig.solver();
  // a wildcard and its apex: two values at one name
  auto [presented, calls] = presentUntilDone(rig, solver, {task("example.test", true, "tok1"), task("example.test", false, "tok2")});
  ASSERT_TRUE(presented) << presented.error().message;
  EXPECT_EQ(calls, 4);  // three NotReady while the secondary lagged, then served
  ASSERT_EQ(rig.dns.sent.size(), 1u);  // one update across the four calls
  EXPECT_EQ(rig.dns.sent[0].zone, "example.test");
  EXPECT_EQ(rig.dns.sent[0].listedBefore, 2u);  // written down before the update left
  EXPECT_EQ(rig.dns.zone["_acme-challenge.example.test"],
            (std::vector<std::string>{sources::dns01RecordValue("tok1.thumb"), sources::dns01RecordValue("tok2.thumb")}));
  EXPECT_GE(std::count(rig.dns.polls.begin(), rig.dns.polls.end(), "192.0.2.2:53"), 4);
  solver.cleanUp();
  ASSERT_EQ(rig.dns.sent.size(), 2u);
  EXPECT_FALSE(rig.dns.sent[1].changes[0].add);
  EXPECT_TRUE(rig.dns.zone["_acme-challenge.example.test"].empty());
  EXPECT_TRUE(rig.journal.load().empty());
}

// present() holds no worker: while a server does not serve the records it
// returns at once, NotReady, with when to look again; nothing is sent twice.
TEST(Dns01Solver, PresentReturnsNotReadyWithRetryAfterAndSendsOneUpdateWhileTheRecordsAreNotServed) {
  Rig rig;
  rig.dns.lagging["192.0.2.2:53"] = 1000;
  auto solver = rig.solver();
  const std::vector tasks{task("example.test", false, "tok")};
  std::string firstMessage;
  for (int look = 0; look < 5; ++look) {
    auto before = rig.time.at;
    auto presented = solver.present(tasks);
    ASSERT_FALSE(presented);
    // The same words at every look while the same server lags: the lineage says
    // a wait again only when what it waits for changed.
    if (look == 0) firstMessage = presented.error().message;
    EXPECT_EQ(presented.error().message, firstMessage);
    EXPECT_TRUE(presented.error().is(ErrorKind::NotReady)) << presented.error().message;
    EXPECT_EQ(presented.error().retryAfter, std::chrono::seconds(2));
    EXPECT_NE(presented.error().message.find("192.0.2.2:53 does not serve the TXT record _acme-challenge.example.test \"" +
                                             sources::dns01RecordValue("tok.thumb") + "\" yet"),
              std::string::npos)
        << presented.error().message;
    EXPECT_EQ(rig.time.at, before);  // no time passed inside present(): it did not sleep
    rig.time.at += std::chrono::seconds(2);
  }
  EXPECT_EQ(rig.dns.sent.size(), 1u);
  EXPECT_EQ(rig.journal.load().size(), 1u);  // placed, and left in place between looks
  rig.dns.lagging.clear();
  EXPECT_TRUE(solver.present(tasks));
  EXPECT_EQ(rig.dns.sent.size(), 1u);
  // other tasks (a new order) are placed anew, and the old record goes
  EXPECT_TRUE(solver.present({task("example.test", false, "other")}));
  ASSERT_EQ(rig.dns.sent.size(), 3u);
  EXPECT_FALSE(rig.dns.sent[1].changes[0].add);
  EXPECT_TRUE(rig.dns.sent[2].changes[0].add);
}

TEST(Dns01Solver, ARecordNoServerServesInTimeFailsBeforeTheCaIsToldAndIsStillRemoved) {
  Rig rig;
  rig.dns.lagging["192.0.2.2:53"] = 1000;
  auto solver = rig.solver();
  auto [presented, calls] = presentUntilDone(rig, solver, {task("example.test", false, "tok")});
  ASSERT_FALSE(presented);
  EXPECT_FALSE(presented.error().is(ErrorKind::NotReady));  // an ordinary error: the caller cleans up
  EXPECT_NE(presented.error().message.find("after 60 s, 192.0.2.2:53 does not serve the TXT record _acme-challenge.example.test"),
            std::string::npos)
      << presented.error().message;
  EXPECT_NE(presented.error().message.find("the CA was not told"), std::string::npos);
  EXPECT_EQ(calls, 31);  // looks at 0, 2, ... 60 s: the timeout counts from the first add
  EXPECT_EQ(rig.dns.sent.size(), 1u);
  solver.cleanUp();
  EXPECT_TRUE(rig.dns.zone["_acme-challenge.example.test"].empty());
  EXPECT_TRUE(rig.journal.load().empty());
  // after cleanUp, the same tasks are placed anew, with a new timeout
  rig.dns.lagging.clear();
  EXPECT_TRUE(solver.present({task("example.test", false, "tok")}));
  EXPECT_EQ(rig.dns.sent.size(), 3u);
}

TEST(Dns01Solver, AStopDuringALookEndsPresentAsCancelledAndLeavesTheRecordListed) {
  Rig rig;
  rig.dns.stopped = true;  // dns::Client's queries end on the stop descriptor
  auto solver = rig.solver();
  auto presented = solver.present({task("example.test", false, "tok")});
  ASSERT_FALSE(presented);
  EXPECT_TRUE(presented.error().is(ErrorKind::Cancelled));
  EXPECT_EQ(rig.journal.load().size(), 1u);  // left for the next start to remove
}

// A server that answers without AA is not one that serves the zone (a resolver's
// cache, a secondary that has not loaded it): its answer is not taken as served.
TEST(Dns01Solver, AnAnswerWithoutTheAuthoritativeFlagIsNotServedYet) {
  Rig rig;
  rig.dns.cached.insert("192.0.2.2:53");
  auto solver = rig.solver();
  const std::vector tasks{task("example.test", false, "tok")};
  auto presented = solver.present(tasks);
  ASSERT_FALSE(presented);
  EXPECT_TRUE(presented.error().is(ErrorKind::NotReady));
  EXPECT_NE(presented.error().message.find("192.0.2.2:53 answers for _acme-challenge.example.test without the "
                                           "authoritative flag (AA): it does not serve the zone example.test (yet)"),
            std::string::npos)
      << presented.error().message;
  rig.dns.cached.clear();
  EXPECT_TRUE(solver.present(tasks));
}

struct CapturedLog {
  std::vector<std::string> lines;
  CapturedLog() {
    log::captureForTests([this](const std::string& l) { lines.push_back(l); });
    log::setup(LogFormat::Text, LogLevel::Info);
  }
  ~CapturedLog() { log::captureForTests(nullptr); }
  std::string with(const std::string& event) const {
    for (const auto& l : lines)
      if (l.find(event) != std::string::npos) return l;
    return "";
  }
};

TEST(Dns01Solver, TheServersAskedAndTheNsNamesThatCouldNotBeAreSaidAtInfo) {
  CapturedLog captured;
  {
    Rig rig;
    rig.dns.servers = {{"192.0.2.2", 53}};
    rig.dns.unresolved = {"ns3.example.test: no A or AAAA record (NXDOMAIN)"};
    auto solver = rig.solver();
    ASSERT_TRUE(solver.present({task("example.test", false, "tok")}));
    auto line = captured.with("dns_zone_servers");
    EXPECT_NE(line.find("zone=example.test"), std::string::npos) << line;
    EXPECT_NE(line.find("192.0.2.2:53"), std::string::npos) << line;
    EXPECT_NE(line.find("ns3.example.test: no A or AAAA record (NXDOMAIN)"), std::string::npos) << line;
    EXPECT_EQ(rig.dns.polls, (std::vector<std::string>{"192.0.2.2:53"}));
  }
  captured.lines.clear();
  {
    Rig rig;
    rig.dns.servers.clear();  // the NS records themselves cannot be had: only the primary is asked, and that is said
    auto solver = rig.solver();
    ASSERT_TRUE(solver.present({task("example.test", false, "tok")}));
    auto line = captured.with("dns_zone_servers");
    EXPECT_NE(line.find("asked=192.0.2.1:53"), std::string::npos) << line;
    EXPECT_NE(line.find("ask 192.0.2.53:53 for example.test: timed out"), std::string::npos) << line;
    EXPECT_NE(line.find("only the primary"), std::string::npos) << line;
  }
}

TEST(Dns01Solver, FindingTheZonesServersIsBoundedByThePropagationTimeoutAndItsTimeCounts) {
  Rig rig;
  rig.dns.discoveryTakes = std::chrono::seconds(45);
  auto solver = rig.solver();
  rig.dns.lagging["192.0.2.2:53"] = 1000;
  auto [presented, calls] = presentUntilDone(rig, solver, {task("example.test", false, "tok")});
  ASSERT_EQ(rig.dns.budgets.size(), 1u);  // looked up once for this order's records
  EXPECT_EQ(rig.dns.budgets[0], std::chrono::seconds(60));
  ASSERT_FALSE(presented);
  EXPECT_NE(presented.error().message.find("after 60 s"), std::string::npos) << presented.error().message;
  EXPECT_EQ(calls, 9);  // 45 s went to the lookup: looks at 45, 47, ... 61 s
  // a lookup that takes all of the time leaves none to wait: an error at once
  Rig slow;
  slow.dns.discoveryTakes = std::chrono::seconds(600);
  slow.dns.lagging["192.0.2.2:53"] = 1000;
  auto other = slow.solver();
  auto once = other.present({task("example.test", false, "tok")});
  ASSERT_FALSE(once);
  EXPECT_FALSE(once.error().is(ErrorKind::NotReady)) << once.error().message;
  EXPECT_EQ(slow.time.at - *parseTime("2026-12-04T10:00:00Z"), std::chrono::seconds(60));
}

TEST(Dns01Solver, WhatACrashLeftIsRemovedByTheNextRunButAnAnsweredChallengesRecordStays) {
  Rig rig;
  {
    auto crashed = rig.solver();
    ASSERT_TRUE(crashed.present({task("example.test", false, "old"), task("www.example.test", false, "kept")}));
  }  // no cleanUp: the process died
  ASSERT_EQ(rig.journal.load().size(), 2u);
  auto next = rig.solver();
  // the resumed order's www challenge was answered before the crash: its record stays
  ASSERT_TRUE(next.present({task("example.test", false, "new"), task("www.example.test", false, "kept", true)}));
  EXPECT_EQ(rig.dns.zone["_acme-challenge.example.test"], (std::vector<std::string>{sources::dns01RecordValue("new.thumb")}));
  EXPECT_EQ(rig.dns.zone["_acme-challenge.www.example.test"],
            (std::vector<std::string>{sources::dns01RecordValue("kept.thumb")}));
  next.cleanUp();
  EXPECT_TRUE(rig.dns.zone["_acme-challenge.example.test"].empty());
  EXPECT_TRUE(rig.dns.zone["_acme-challenge.www.example.test"].empty());
  // and with no order at all, tidyUp clears a list a failed removal left
  ASSERT_TRUE(rig.journal.save({{"_acme-challenge.example.test", "stale", "192.0.2.1:53", "example.test"}}));
  rig.dns.zone["_acme-challenge.example.test"] = {"stale"};
  next.tidyUp();
  EXPECT_TRUE(rig.dns.zone["_acme-challenge.example.test"].empty());
  EXPECT_TRUE(rig.journal.load().empty());
}

TEST(Dns01Solver, ARemovalTheServerRefusesStaysListedForTheNextRun) {
  Rig rig;
  sources::Dns01Solver solver(rig.dns, rig.journal, rig.time, rig.options());
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
  sources::Dns01Solver solver(rig.dns, rig.journal, rig.time, rig.options());
  auto ready = solver.readyToOrder({"*.example.test", "example.test"}, "", {});
  ASSERT_FALSE(ready);
  EXPECT_NE(ready.error().message.find("_acme-challenge.example.test is not in the zone attacker.test"), std::string::npos)
      << ready.error().message;
  EXPECT_TRUE(rig.dns.sent.empty());
  auto options = rig.options();
  options.zone = "other.test";
  sources::Dns01Solver configured(rig.dns, rig.journal, rig.time, options);
  auto wrong = configured.readyToOrder({"example.test"}, "", {});
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.error().message.find("set SIDECERT_DNS_ZONE to the zone that holds it"), std::string::npos);
  rig.dns.soaOwner = "example.test";
  rig.dns.asked.clear();
  sources::Dns01Solver found(rig.dns, rig.journal, rig.time, rig.options());
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

// Options a caller did not tune wait as the solver's own defaults say: not a
// timeout of 0 that gives up at once, nor a poll of 0 that asks again at once.
TEST(Dns01Solver, OptionsLeftUnsetWaitWithTheSolversOwnDefaults) {
  Rig rig;
  rig.dns.lagging["192.0.2.2:53"] = 1000;
  sources::Dns01Options o;
  o.server = {"192.0.2.1", 53};
  o.key = dns::TsigKey{"k", "hmac-sha256", "c2VjcmV0"};
  sources::Dns01Solver solver(rig.dns, rig.journal, rig.time, o);
  const std::vector tasks{task("example.test", false, "tok")};
  auto first = solver.present(tasks);
  ASSERT_FALSE(first);
  EXPECT_TRUE(first.error().is(ErrorKind::NotReady)) << first.error().message;
  EXPECT_EQ(first.error().retryAfter, std::chrono::ceil<std::chrono::seconds>(sources::kDefaultPropagationPoll));
  rig.time.at += sources::kDefaultPropagationTimeout - std::chrono::seconds(1);
  EXPECT_TRUE(solver.present(tasks).error().is(ErrorKind::NotReady));
  rig.time.at += std::chrono::seconds(1);
  auto late = solver.present(tasks);
  ASSERT_FALSE(late);
  EXPECT_NE(late.error().message.find("after 180 s"), std::string::npos) << late.error().message;
}
