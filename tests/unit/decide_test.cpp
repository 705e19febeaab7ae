#include "decide/decide.h"

#include <gtest/gtest.h>

#include <functional>

#include "core/time_format.h"

using namespace sc;
using namespace sc::decide;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using store::Source;

namespace {

const TimePoint now = fromUnixSeconds(1'800'000'000);
constexpr auto kDay = hours(24);
const std::string kCa = "https://ca.test/dir", kCa2 = "https://ca2.test/dir", kSelf = "self-signed";

Policy twoSources() {
  Policy p;
  p.sources = {{kCa, Source::Acme, {5, hours(24 * 7)}}, {kSelf, Source::SelfSigned, {1000, seconds(1)}}};
  return p;
}

// A 90-day set issued `age` ago.
SetFacts set(Source source, hours age, std::string problem = "") {
  SetFacts s;
  s.id = "set-000001";
  s.source = source;
  s.readable = true;
  s.notBefore = now - age;
  s.notAfter = s.notBefore + 90 * kDay;
  s.problem = std::move(problem);
  return s;
}

Facts with(std::optional<SetFacts> live) {
  Facts f;
  f.live = std::move(live);
  return f;
}

renew::OrderLedger failedUntil(TimePoint retryAt) {
  renew::OrderLedger l;
  l.failures = 1;
  l.retryAt = retryAt;
  return l;
}

struct Row {
  const char* what;
  std::function<Facts()> facts;
  Action action;
  std::size_t source = 0;  // Obtain
  bool hold = false;
  const char* why = "";  // part of the reason given
};

}  // namespace

// Each row: the facts, and the one thing to do first.
TEST(Decide, WhatToDoFirst) {
  const Policy p = twoSources();
  const std::vector<Row> rows = {
      {"nothing in the volume: the fallback, which needs no network, first", [] { return with(std::nullopt); },
       Action::Obtain, 1, false, "no certificate in the volume yet"},
      {"our set unreadable: the fallback first",
       [] {
         auto s = set(Source::Acme, kDay, "cert.pem: damaged");
         s.readable = false;
         return with(s);
       },
       Action::Obtain, 1, false, "not usable"},
      {"self-signed in place: the better source", [] { return with(set(Source::SelfSigned, hours(1))); },
       Action::Obtain, 0, false, "better source than self-signed"},
      {"ACME in place, not due: nothing", [] { return with(set(Source::Acme, 10 * kDay)); }, Action::Done},
      {"ACME in place, due (30 days left): renew", [] { return with(set(Source::Acme, 60 * kDay)); }, Action::Obtain,
       0, false, "renewal due"},
      {"ACME due, the CA in its backoff: nothing",
       [] {
         auto f = with(set(Source::Acme, 60 * kDay));
         f.ledgers[kCa] = failedUntil(now + hours(1));
         return f;
       },
       Action::Done},
      {"ACME due, the CA already asked in this pass: nothing",
       [] {
         auto f = with(set(Source::Acme, 60 * kDay));
         f.attempted.insert(kCa);
         return f;
       },
       Action::Done},
      {"ACME revoked: a CA first, the old set serving meanwhile",
       [] { return with(set(Source::Acme, kDay, "the certificate was revoked")); }, Action::Obtain, 0, false,
       "revoked"},
      {"a user set, not in its margin: never replaced", [] { return with(set(Source::User, kDay)); }, Action::Done},
      {"a user set in its margin: an ACME set obtained ahead, held",
       [] { return with(set(Source::User, 70 * kDay)); }, Action::Obtain, 0, true, "obtained ahead"},
      {"a user set in its margin, a held set outliving it: nothing",
       [] {
         auto f = with(set(Source::User, 70 * kDay));
         f.held = set(Source::Acme, kDay);
         return f;
       },
       Action::Done},
      {"a user set in its margin, a held set ending first: obtain ahead",
       [] {
         auto f = with(set(Source::User, 70 * kDay));
         f.held = set(Source::Acme, 80 * kDay);
         return f;
       },
       Action::Obtain, 0, true},
      {"a user set expired, a held set valid: it takes over",
       [] {
         auto f = with(set(Source::User, 91 * kDay, "the certificate expired"));
         f.held = set(Source::Acme, kDay);
         return f;
       },
       Action::UseHeld, 0, false, "obtained ahead takes over"},
      {"a user set expired, none held: a CA before the fallback",
       [] { return with(set(Source::User, 91 * kDay, "the certificate expired")); }, Action::Obtain, 0, false,
       "user certificate is no longer usable"},
      {"a user set expired, the CA in its backoff: the fallback",
       [] {
         auto f = with(set(Source::User, 91 * kDay, "the certificate expired"));
         f.ledgers[kCa] = failedUntil(now + hours(1));
         return f;
       },
       Action::Obtain, 1},
      {"files dropped, accepted: adopted before anything else",
       [] {
         auto f = with(std::nullopt);
         f.linkIsOurs = false;
         f.drop = DropFacts{DropFacts::Verdict::Accept, "", "", now};
         return f;
       },
       Action::AdoptUserSet},
      {"files dropped, refused: moved aside",
       [] {
         auto f = with(set(Source::Acme, kDay));
         f.drop = DropFacts{DropFacts::Verdict::Refuse, "the key does not match", "", now};
         return f;
       },
       Action::RefuseUserSet, 0, false, "the key does not match"},
      {"a file dropped, the rest within the grace: wait",
       [] {
         auto f = with(set(Source::Acme, kDay));
         f.drop = DropFacts{DropFacts::Verdict::Incomplete, "no key", "privkey.pem", now - seconds(10)};
         return f;
       },
       Action::Done},
      {"a file dropped, the grace over: refused, saying what never came",
       [] {
         auto f = with(set(Source::Acme, kDay));
         f.drop = DropFacts{DropFacts::Verdict::Incomplete, "no key", "privkey.pem", now - minutes(2)};
         return f;
       },
       Action::RefuseUserSet, 0, false, "no new privkey.pem arrived within 1m"},
      {"live/<name> not ours: our set put back",
       [] {
         auto f = with(set(Source::Acme, kDay));
         f.linkIsOurs = false;
         return f;
       },
       Action::RestoreLink},
      {"ARI says now, the lifetime rule not yet: renew",
       [] {
         auto f = with(set(Source::Acme, 10 * kDay));
         f.ariRenewAt = now - hours(1);
         return f;
       },
       Action::Obtain, 0, false, "renewal due"},
  };
  for (const auto& row : rows) {
    auto d = decide::decide(row.facts(), p, now);
    EXPECT_EQ(d.action, row.action) << row.what;
    if (row.action == Action::Obtain) {
      EXPECT_EQ(d.source, row.source) << row.what;
      EXPECT_EQ(d.hold, row.hold) << row.what;
    }
    EXPECT_NE(d.why.find(row.why), std::string::npos) << row.what << ": " << d.why;
  }
}

TEST(Decide, WhenToComeBack) {
  const Policy p = twoSources();
  // Not due: at the renewal time or the check interval, whichever is first.
  EXPECT_EQ(decide::decide(with(set(Source::Acme, 10 * kDay)), p, now).nextCheck, now + p.checkInterval);
  EXPECT_EQ(decide::decide(with(set(Source::Acme, 55 * kDay)), p, now).nextCheck, now + 5 * kDay);
  // Due, the CA in its backoff: when it reopens.
  auto f = with(set(Source::Acme, 60 * kDay));
  f.ledgers[kCa] = failedUntil(now + hours(3));
  auto d = decide::decide(f, p, now);
  EXPECT_EQ(d.nextCheck, now + hours(3));
  ASSERT_EQ(d.deferred.size(), 1u);
  EXPECT_EQ(d.deferred[0].source, kCa);
  // Nothing usable in place: soon.
  auto broken = with(set(Source::Acme, kDay, "revoked"));
  broken.attempted = {kCa, kSelf};
  EXPECT_EQ(decide::decide(broken, p, now).nextCheck, now + kRetryUnusable);
  // A user set held over: exactly at its expiry, to swap then.
  auto user = with(set(Source::User, 89 * kDay + hours(12)));
  user.held = set(Source::Acme, kDay);
  EXPECT_EQ(decide::decide(user, p, now).nextCheck, user.live->notAfter);
  // Files still coming: when their grace ends.
  auto waiting = with(set(Source::Acme, kDay));
  waiting.drop = DropFacts{DropFacts::Verdict::Incomplete, "no key", "privkey.pem", now - seconds(10)};
  EXPECT_EQ(decide::decide(waiting, p, now).nextCheck, now + seconds(50));
  // The CA's ARI Retry-After: ask it again then.
  auto ari = with(set(Source::Acme, 10 * kDay));
  ari.ariRenewAt = now + 40 * kDay;
  ari.ariAskAgainAt = now + hours(6);
  EXPECT_EQ(decide::decide(ari, p, now).nextCheck, now + hours(6));
}

TEST(Decide, AnExpiringUserSetIsWarnedOfOnceADay) {
  const Policy p = twoSources();
  auto f = with(set(Source::User, 70 * kDay));
  EXPECT_TRUE(decide::decide(f, p, now).warnExpiring);
  f.lastExpiryWarning = now - hours(23);
  EXPECT_FALSE(decide::decide(f, p, now).warnExpiring);
  f.lastExpiryWarning = now - kDay;
  EXPECT_TRUE(decide::decide(f, p, now).warnExpiring);
  EXPECT_FALSE(decide::decide(with(set(Source::User, kDay)), p, now).warnExpiring);  // not in its margin
  EXPECT_FALSE(decide::decide(with(set(Source::Acme, 70 * kDay)), p, now).warnExpiring);
}

TEST(Decide, TheOrderBudgetAndBackoffsHoldBackEachSourceAlone) {
  Policy p = twoSources();
  p.sources.insert(p.sources.begin() + 1, SourceFacts{kCa2, Source::Acme, {5, hours(24 * 7)}});
  auto f = with(set(Source::SelfSigned, hours(1)));
  renew::OrderLedger spent;
  for (int i = 0; i < 5; ++i) spent.orders.push_back(now - hours(i + 1));
  f.ledgers[kCa] = spent;
  auto d = decide::decide(f, p, now);
  EXPECT_EQ(d.action, Action::Obtain);
  EXPECT_EQ(d.source, 1u);  // the second CA, while the first waits out its week
  ASSERT_EQ(d.deferred.size(), 1u);
  EXPECT_EQ(d.deferred[0].until, now - hours(5) + hours(24 * 7));
  f.attempted.insert(kCa2);
  auto done = decide::decide(f, p, now);
  EXPECT_EQ(done.action, Action::Done);
  EXPECT_EQ(done.nextCheck, now - hours(5) + hours(24 * 7));  // when the first CA's oldest order leaves the week
}

TEST(Decide, TheRenewalMarginInForce) {
  Policy p = twoSources();
  auto s = set(Source::Acme, kDay);
  Facts f = with(s);
  EXPECT_EQ(renewalTime(s, f, p), s.notAfter - 30 * kDay);  // the lifetime rule
  f.ariRenewAt = s.notAfter - 20 * kDay;
  EXPECT_EQ(renewalTime(s, f, p), s.notAfter - 20 * kDay);  // ARI's window wins...
  p.renewBefore = hours(24 * 45);
  EXPECT_EQ(renewalTime(s, f, p), s.notAfter - 45 * kDay);  // ...but not over a configured margin
  p.renewBefore = hours(24 * 90);
  EXPECT_TRUE(marginTooLong(s, p));
  EXPECT_EQ(marginFor(s, p), 30 * kDay);  // a third of the lifetime
  auto user = set(Source::User, kDay);
  p.renewBefore.reset();
  EXPECT_EQ(renewalTime(user, f, p), user.notAfter - 30 * kDay);  // ARI is for our ACME sets only
}

TEST(Decide, EachSourceIsAskedAtMostOncePerPassWhateverTheFacts) {
  const Policy p = twoSources();
  for (auto source : {Source::User, Source::Acme, Source::SelfSigned})
    for (auto age : {hours(1), 70 * kDay, 91 * kDay}) {
      Facts f = with(set(source, age, age > 90 * kDay ? "the certificate expired" : ""));
      int asked = 0;
      for (int step = 0; step < 10; ++step) {
        auto d = decide::decide(f, p, now);
        if (d.action != Action::Obtain) break;
        ++asked;
        f.attempted.insert(p.sources[d.source].id);  // as if every attempt failed
      }
      EXPECT_LE(asked, 2) << store::sourceName(source) << " " << age.count();
      EXPECT_EQ(decide::decide(f, p, now).action, Action::Done);
    }
}

// A short certificate whose successor is due at once: asked for again within its life.
TEST(Decide, ASetStillDueAfterThisPassAskedComesBackWithinItsLife) {
  const Policy p = twoSources();
  SetFacts s = set(Source::Acme, kDay);
  s.notBefore = now - seconds(1);
  s.notAfter = now + seconds(39);
  Facts f = with(s);
  f.ariRenewAt = s.notBefore;  // the CA's window began at issuance
  f.ariAskAgainAt = now + hours(6);
  f.attempted.insert(kCa);
  auto d = decide::decide(f, p, now);
  EXPECT_EQ(d.action, Action::Done);
  EXPECT_EQ(d.nextCheck, now + seconds(9));  // a quarter of the 39 s left, in whole seconds
  EXPECT_FALSE(d.atRisk);
  // A 90-day set in the same place: a minute, as before.
  Facts longer = with(set(Source::Acme, 60 * kDay));
  longer.attempted.insert(kCa);
  EXPECT_EQ(decide::decide(longer, p, now).nextCheck, now + kRetryUnusable);
}

TEST(Decide, ACAWindowAtOrPastExpiryStillLeavesHalfTheMargin) {
  const Policy p = twoSources();
  auto s = set(Source::Acme, kDay);
  Facts f = with(s);
  f.ariRenewAt = s.notAfter + kDay;  // hostile: after expiry
  EXPECT_EQ(renewalTime(s, f, p), s.notAfter - 15 * kDay);
  f.ariRenewAt = s.notAfter - 16 * kDay;  // later than the lifetime rule, inside the bound: the CA's
  EXPECT_EQ(renewalTime(s, f, p), s.notAfter - 16 * kDay);
}

TEST(Decide, ABudgetOrBackoffThatOutlastsTheSetIsSaidAtOnce) {
  const Policy p = twoSources();
  auto s = set(Source::Acme, 10 * kDay);  // due in 50 days, expires in 80
  // The budget spent until after expiry.
  Facts spent = with(s);
  renew::OrderLedger orders;
  for (int i = 0; i < 5; ++i) orders.orders.push_back(now);
  Policy yearly = p;
  yearly.sources[0].budget = {5, hours(24 * 365)};
  spent.ledgers[kCa] = orders;
  auto d = decide::decide(spent, yearly, now);
  ASSERT_TRUE(d.atRisk);
  EXPECT_EQ(d.atRisk->notAfter, s.notAfter);
  EXPECT_EQ(d.atRisk->orderAllowedAt, now + hours(24 * 365));
  EXPECT_NE(d.atRisk->why.find("order budget is spent"), std::string::npos) << d.atRisk->why;
  // The same orders in a weekly budget reopen before it is due: no risk.
  EXPECT_FALSE(decide::decide(spent, p, now).atRisk);
  // A backoff past expiry, on a set already due.
  Facts failing = with(set(Source::Acme, 89 * kDay));
  failing.ledgers[kCa] = failedUntil(failing.live->notAfter + hours(1));
  auto b = decide::decide(failing, p, now);
  ASSERT_TRUE(b.atRisk);
  EXPECT_NE(b.atRisk->why.find("backing off"), std::string::npos);
  EXPECT_LE(b.nextCheck, failing.live->notAfter);  // back at expiry, to put the best set left in place
  // A backoff that ends before expiry, a self-signed set, a user's covered by a held set: none.
  failing.ledgers[kCa] = failedUntil(failing.live->notAfter - hours(1));
  EXPECT_FALSE(decide::decide(failing, p, now).atRisk);
  Facts self = with(set(Source::SelfSigned, 89 * kDay));
  self.ledgers[kCa] = failedUntil(now + 400 * kDay);
  EXPECT_FALSE(decide::decide(self, p, now).atRisk);
  Facts user = with(set(Source::User, 89 * kDay));
  user.held = set(Source::Acme, kDay);
  user.ledgers[kCa] = failedUntil(now + 400 * kDay);
  EXPECT_FALSE(decide::decide(user, p, now).atRisk);
  user.held.reset();
  EXPECT_TRUE(decide::decide(user, p, now).atRisk);
}

TEST(Decide, TheCAsRenewalInfoIsAskedAgainWithinAMinuteAndADay) {
  EXPECT_EQ(ariAskAgainAt(now, std::nullopt), now + kAriDefaultRetry);  // none given, or failed
  EXPECT_EQ(ariAskAgainAt(now, now + seconds(1)), now + kAriMinRetry);
  EXPECT_EQ(ariAskAgainAt(now, now + hours(3)), now + hours(3));
  EXPECT_EQ(ariAskAgainAt(now, now + hours(24 * 365 * 3)), now + kAriMaxRetry);
  EXPECT_EQ(ariAskAgainAt(now, now - hours(1)), now + kAriMinRetry);  // a time in the past
}
