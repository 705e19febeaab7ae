// How a Lineage waits: for a DNS record a person has still to make (no failure),
// after a pass that could not finish, and for the CA's renewal advice (never
// past the set's own margin). Each wait is bounded by what the live set has left.
#include "lineage_fixture.h"

#include "faulty_fs.h"

namespace {

struct LineageWaitTest : LineageTest {
  renew::OrderLedger ledger() { return state.load().ledgers[acme.id()]; }
};

}  // namespace

// Issue 30, defect 2: waiting for a person is "not ready", not a failure.
TEST_F(LineageWaitTest, WaitingForADnsRecordCountsNoFailureAndTheFirstCaFailureBacksOffByTheFirstStep) {
  acme.notReady = true;
  TimePoint now = t0;
  auto r = lineage->pass(now);
  ASSERT_EQ(r.live->source, "self-signed");
  int looks = 1;
  while (now < t0 + minutes(5) && looks < 100) {  // five minutes of a simulated clock, each look as scheduled
    ASSERT_GT(r.nextCheck, now);
    ASSERT_LE(r.nextCheck, now + decide::kRecordRecheck);
    now = r.nextCheck;
    r = lineage->pass(now);
    ++looks;
    EXPECT_EQ(ledger().failures, 0);
    EXPECT_EQ(r.caFailures, 0);
  }
  EXPECT_GE(looks, 10);
  EXPECT_EQ(acme.calls.size(), static_cast<std::size_t>(looks));
  EXPECT_TRUE(ledger().orders.empty());  // nothing was ordered while the record was missing
  // The record is made; the order comes at the next look, and the CA fails it.
  acme.notReady = false;
  acme.failing = true;
  now = r.nextCheck;
  r = lineage->pass(now);
  EXPECT_EQ(ledger().orders.size(), 1u);
  EXPECT_EQ(ledger().failures, 1);
  EXPECT_EQ(r.nextCheck, now + renew::failureBackoff(1, seconds(0)));
}

TEST_F(LineageWaitTest, AWaitIsSaidOnceNotAtEveryLook) {
  acme.notReady = true;
  auto r = lineage->pass(t0);
  for (int i = 0; i < 5; ++i) r = lineage->pass(r.nextCheck);
  auto warned = std::count_if(events.begin(), events.end(), [](const std::string& e) {
    return e.find("dns_record_missing") != std::string::npos && e.find("warn ") != std::string::npos;
  });
  EXPECT_EQ(warned, 1);
  EXPECT_FALSE(std::any_of(events.begin(), events.end(), [](const std::string& e) {
    return e.find("order_deferred") != std::string::npos && e.find("warn ") != std::string::npos;
  }));
}

// Issue 30, defect 5: a pass that cannot read the volume comes back within the
// live set's life, not after a fixed minute.
TEST(LineageRetry, AnUnreadableVolumeIsRetriedWithinAShortCertificatesLife) {
  TempDir dir;
  FaultyFs fs;
  store::Volume volume{fs, dir.path(), dir.path("state"), "gw"};
  store::StateStore state{fs, dir.path("state"), "gw"};
  ASSERT_TRUE(volume.prepare());
  FakeIssuer acme{store::Source::Acme};
  acme.lifetime = seconds(40);
  sources::SelfSignedSource selfSigned;
  FakeReloader reloader;
  app::Policy p;
  p.names = p.requiredNames = {"a.test"};
  app::Lineage lineage(p, volume, state, {&acme, &selfSigned}, reloader);
  auto first = lineage.pass(t0);
  ASSERT_EQ(first.live->source, "acme");
  fs.unreadable = true;
  TimePoint now = t0 + seconds(20);
  auto r = lineage.pass(now);
  EXPECT_FALSE(r.live);
  EXPECT_LE(r.nextCheck, now + (first.live->notAfter - now) / 4 + seconds(1));
  EXPECT_LT(r.nextCheck, first.live->notAfter);
  fs.unreadable = false;
  EXPECT_TRUE(lineage.pass(r.nextCheck).healthy());
}

TEST_F(LineageWaitTest, AFailedReloadOfAShortCertificateIsToldAgainWithinItsLife) {
  acme.lifetime = seconds(40);
  reloader.failing = true;
  auto r = lineage->pass(t0);
  ASSERT_EQ(r.live->source, "acme");
  EXPECT_TRUE(logged("reload_failed"));
  EXPECT_LE(r.nextCheck, t0 + seconds(10));
}

// Issue 30, defect 0: a CA whose renewalInfo never answers holds a pass no longer
// than half the time the set's own margin leaves.
TEST_F(LineageWaitTest, RenewalAdviceIsWaitedForNoLongerThanTheMarginLeaves) {
  acme.lifetime = minutes(31);  // with the fake's notBefore an hour back: due 40 s after issuance
  acme.clock = &clock;
  acme.hintHangs = true;
  clock.at = t0;
  auto r = lineage->pass(t0);
  ASSERT_EQ(r.live->source, "acme");
  auto dueAt = r.live->notAfter - (r.live->notAfter - r.live->notBefore) / 3;
  ASSERT_GT(dueAt, t0);
  ASSERT_EQ(acme.hintLimits.size(), 1u);
  EXPECT_GT(acme.hintLimits[0], milliseconds(0));
  EXPECT_LE(acme.hintLimits[0], std::chrono::duration_cast<milliseconds>(dueAt - t0) / 2);
  EXPECT_LT(clock.at, dueAt);  // the pass ended before the renewal falls due
  EXPECT_LE(r.nextCheck, dueAt);
  // The renewal comes when due, and its set's advice is bounded the same way.
  auto renewal = lineage->pass(r.nextCheck);
  EXPECT_NE(renewal.live->serial, r.live->serial);
  for (auto limit : acme.hintLimits) EXPECT_LE(limit, decide::kAriMostTime);
}
