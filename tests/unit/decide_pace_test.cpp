// decide() with the account's pace as a fact (accountMayOrderAt): a lineage
// waits its turn at the account as it waits out its own budget, says when, and
// says at once when that turn comes after the set in place expires.
#include <gtest/gtest.h>

#include "core/time_format.h"
#include "decide/decide.h"

using namespace sc;
using namespace sc::decide;
using std::chrono::hours;
using std::chrono::seconds;
using store::Source;

namespace {

const TimePoint now = fromUnixSeconds(1'800'000'000);
constexpr auto kDay = hours(24);
const std::string kCa = "https://ca.test/dir", kSelf = "self-signed";

Policy caThenSelfSigned() {
  Policy p;
  p.sources = {{kCa, Source::Acme, {5, hours(24 * 7)}}, {kSelf, Source::SelfSigned, {1000, seconds(1)}}};
  return p;
}

// A 90-day set issued `age` ago.
SetFacts set(Source source, hours age) {
  SetFacts s;
  s.id = "set-000001";
  s.source = source;
  s.readable = true;
  s.notBefore = now - age;
  s.notAfter = s.notBefore + 90 * kDay;
  return s;
}

Facts paced(std::optional<SetFacts> live, TimePoint turn) {
  Facts f;
  f.live = std::move(live);
  f.accountMayOrderAt[kCa] = {turn, "account pace: 10 new orders in the last 10s"};
  return f;
}

}  // namespace

TEST(DecidePace, ANewLineageWaitsForItsTurnAndComesBackThen) {
  auto f = paced(set(Source::SelfSigned, hours(0)), now + seconds(7));
  auto d = decide::decide(f, caThenSelfSigned(), now);
  EXPECT_EQ(d.action, Action::Done);
  EXPECT_EQ(d.nextCheck, now + seconds(7));
  ASSERT_EQ(d.deferred.size(), 1u);
  EXPECT_TRUE(d.deferred[0].paced);
  EXPECT_EQ(d.deferred[0].until, now + seconds(7));
  EXPECT_NE(d.deferred[0].why.find("account pace"), std::string::npos);
  EXPECT_FALSE(d.atRisk);  // a self-signed set has no CA certificate to lose
  // Its turn has come: it orders.
  f.accountMayOrderAt[kCa].at = now;
  auto go = decide::decide(f, caThenSelfSigned(), now);
  EXPECT_EQ(go.action, Action::Obtain);
  EXPECT_EQ(go.source, 0u);
}

TEST(DecidePace, WithNothingInPlaceTheFallbackStillComesFirst) {
  auto f = paced(std::nullopt, now + kDay);
  auto d = decide::decide(f, caThenSelfSigned(), now);
  EXPECT_EQ(d.action, Action::Obtain);
  EXPECT_EQ(d.source, 1u);  // the self-signed set, at once: the pace holds only the CA
}

TEST(DecidePace, TheLaterOfTheBudgetAndThePaceIsSaid) {
  auto f = paced(set(Source::Acme, 70 * kDay), now + hours(2));  // due since 10 days
  renew::OrderLedger failed;
  failed.failures = 1;
  failed.retryAt = now + hours(1);
  f.ledgers[kCa] = failed;
  auto d = decide::decide(f, caThenSelfSigned(), now);
  ASSERT_EQ(d.deferred.size(), 1u);
  EXPECT_TRUE(d.deferred[0].paced);
  EXPECT_EQ(d.deferred[0].until, now + hours(2));
  EXPECT_EQ(d.nextCheck, now + hours(2));
  f.ledgers[kCa].retryAt = now + hours(3);  // the backoff outlasts the pace: its reason, not paced
  auto b = decide::decide(f, caThenSelfSigned(), now);
  ASSERT_EQ(b.deferred.size(), 1u);
  EXPECT_FALSE(b.deferred[0].paced);
  EXPECT_EQ(b.deferred[0].until, now + hours(3));
}

TEST(DecidePace, ATurnAfterExpiryIsSaidAtOnce) {
  auto s = set(Source::Acme, 70 * kDay);  // due, expires in 20 days
  auto late = paced(s, s.notAfter + hours(1));
  auto d = decide::decide(late, caThenSelfSigned(), now);
  ASSERT_TRUE(d.atRisk);
  EXPECT_EQ(d.atRisk->orderAllowedAt, s.notAfter + hours(1));
  EXPECT_NE(d.atRisk->why.find("account pace"), std::string::npos);
  EXPECT_LE(d.nextCheck, s.notAfter);
  // A turn before expiry: waited for, no risk; and no later than the turn.
  auto inTime = paced(s, now + hours(5));
  auto ok = decide::decide(inTime, caThenSelfSigned(), now);
  EXPECT_FALSE(ok.atRisk);
  EXPECT_EQ(ok.nextCheck, now + hours(5));
}

TEST(DecidePace, TheTimelinessPromiseHoldsWhenThePaceIsOpen) {
  // A set not yet due: the pace does not bring its check forward nor push it back.
  auto s = set(Source::Acme, 10 * kDay);  // due in 50 days
  Facts open = paced(s, now);
  Facts none;
  none.live = s;
  EXPECT_EQ(decide::decide(open, caThenSelfSigned(), now).nextCheck,
            decide::decide(none, caThenSelfSigned(), now).nextCheck);
  EXPECT_LE(decide::decide(open, caThenSelfSigned(), now).nextCheck, s.notAfter - 30 * kDay);
}
