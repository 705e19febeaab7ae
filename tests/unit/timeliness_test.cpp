// The contract's timeliness promise, as a property of decide() over simulated time:
// thousands of generated lineages (lifetimes from 40 seconds to 100 days, margins
// set or not, CA renewal windows normal, past, beyond expiry, missing or failing,
// any Retry-After, CAs that fail at random, tight budgets, the orders and failures
// earlier runs left in the ledger, restarts) are driven
// pass by pass the way Lineage drives them, and every set is checked. The time
// the acting side spends is on the simulated clock: a renewalInfo request that
// never answers (held as long as Lineage lets it), DNS looks that take their
// timeout before an order, passes that fail (the volume unreadable), sources
// not ready (a DNS record not there yet), and renewals refused for naming
// `replaces`. A second test puts the old acting behaviours back and shows the
// property then breaks: the simulation can see what it is meant to catch.
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <random>
#include <sstream>

#include "core/time_format.h"
#include "decide/decide.h"
#include "renew/ari.h"

using namespace sc;
using namespace sc::decide;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::seconds;
using store::Source;

namespace {

const std::string kCa = "https://ca.test/dir", kSelf = "self-signed";
constexpr auto kDay = hours(24);

enum class AriMode { None, LikePebble, LikeLetsEncrypt, InThePast, AfterExpiry, Failing, Random, NeverAnswers };
constexpr int kAriModes = 8;

// How the acting side (Lineage, AcmeSource) behaves: as built, or as it was
// before issue 30, to show that the property test catches that.
struct Acting {
  bool boundAri = true;               // renewalInfo waited for at most decide::ariTimeLimit (else 2 minutes)
  bool retryWithoutReplaces = true;   // an order refused for `replaces` placed again at once (else a failure)
  bool failedPassWithinLife = true;   // decide::retryAfterFailedPass (else a fixed minute)
};

// One generated case: the lineage's settings and how its CA behaves.
struct Case {
  std::uint64_t seed = 0;
  seconds lifetime{0};
  std::optional<seconds> renewBefore;
  seconds checkInterval{0};
  renew::OrderBudget budget;
  double successRate = 1.0;      // of each order
  std::vector<AriMode> ariModes;  // one drawn at each renewalInfo request
  seconds ariRetryAfter{0};       // 0: none given
  double restartRate = 0;         // an extra pass (restart, SIGHUP, a volume event) between two checks
  double failedPassRate = 0;      // a pass that cannot read the volume (never twice in a row)
  double notReadyRate = 0;        // a source not ready (a DNS record not there yet; at most twice in a row)
  double replacesRefusedRate = 0; // a renewal refused because of its `replaces` (Pebble, leading-zero serials)
  milliseconds preOrderDns{0};    // the most DNS looks before an order may take (timeouts included)

  std::string describe() const {
    std::ostringstream o;
    o << "seed " << seed << ": lifetime " << lifetime.count() << " s, renew_before "
      << (renewBefore ? std::to_string(renewBefore->count()) + " s" : "unset") << ", check_interval "
      << checkInterval.count() << " s, budget " << budget.orders << "/" << budget.window.count() << " s, success "
      << successRate << ", failed passes " << failedPassRate << ", not ready " << notReadyRate << ", replaces refused "
      << replacesRefusedRate << ", DNS before order " << preOrderDns.count() << " ms, ARI retry-after "
      << ariRetryAfter.count() << " s, ARI modes";
    for (auto m : ariModes) o << " " << static_cast<int>(m);
    return o.str();
  }
};

seconds logUniform(std::mt19937_64& rng, seconds lo, seconds hi) {
  std::uniform_real_distribution<double> d(std::log(static_cast<double>(lo.count())),
                                           std::log(static_cast<double>(hi.count())));
  return seconds(static_cast<std::int64_t>(std::exp(d(rng))));
}

Case generate(std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto chance = [&](double p) { return std::uniform_real_distribution<double>(0, 1)(rng) < p; };
  Case c;
  c.seed = seed;
  c.lifetime = logUniform(rng, seconds(40), 100 * kDay);
  if (chance(0.3)) c.renewBefore = logUniform(rng, seconds(1), 2 * c.lifetime);
  c.checkInterval = chance(0.5) ? seconds(7 * kDay) : logUniform(rng, seconds(60), 30 * kDay);
  c.budget = chance(0.5) ? renew::OrderBudget{} : renew::OrderBudget{std::uniform_int_distribution<int>(1, 60)(rng),
                                                                        logUniform(rng, seconds(60), 14 * kDay)};
  c.successRate = chance(0.5) ? 1.0 : std::uniform_real_distribution<double>(0, 1)(rng);
  int modes = std::uniform_int_distribution<int>(1, 3)(rng);
  for (int i = 0; i < modes; ++i)
    c.ariModes.push_back(static_cast<AriMode>(std::uniform_int_distribution<int>(0, kAriModes - 1)(rng)));
  c.ariRetryAfter = chance(0.3) ? seconds(0) : logUniform(rng, seconds(1), 3 * 365 * kDay);
  c.restartRate = chance(0.5) ? 0.0 : 0.3;
  c.failedPassRate = chance(0.7) ? 0.0 : 0.3;
  c.notReadyRate = chance(0.7) ? 0.0 : 0.3;
  c.replacesRefusedRate = chance(0.7) ? 0.0 : 0.5;
  // dns-persist-01's look at its record: 2 s a try, 2 tries, up to 2 resolvers.
  c.preOrderDns = chance(0.7) ? milliseconds(0) : milliseconds(8000);
  return c;
}

struct LiveSet {
  SetFacts facts;
  std::string serial;
  bool renewalOrdered = false;   // an order was placed while it was live, before its notAfter
  bool flaggedAtRisk = false;    // decide() said renewal_at_risk for it before its notAfter
};

// Drives one case pass by pass; returns the first broken promise, or "".
class Simulation {
 public:
  explicit Simulation(const Case& c, Acting acting = {}) : c_(c), acting_(acting), rng_(c.seed ^ 0x5eed) {
    policy_.renewBefore = c.renewBefore;
    policy_.checkInterval = c.checkInterval;
    policy_.sources = {{kCa, Source::Acme, c.budget}, {kSelf, Source::SelfSigned, {1 << 30, seconds(1)}}};
    now_ = fromUnixSeconds(1'800'000'000) + milliseconds(std::uniform_int_distribution<int>(0, 999)(rng_));
    live_ = issue(Source::Acme, now_);
    inheritHistory();
    // A CA that issues every order it accepts, for a lineage with nothing to wait
    // for and no failures behind it: only the budget may excuse a late renewal.
    strict_ = c.successRate == 1.0 && c.notReadyRate == 0 && ledger_.failures == 0;
  }

  std::string run() {
    for (int pass = 0; pass < 400 && issued_ < 12; ++pass) {
      if (auto broken = onePass(); !broken.empty()) return broken;
    }
    return "";
  }

 private:
  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  milliseconds upTo(milliseconds most) {
    return milliseconds(std::uniform_int_distribution<std::int64_t>(0, std::max<std::int64_t>(0, most.count()))(rng_));
  }

  // What earlier runs left in the ledger (it survives restarts): orders still in
  // the budget's window, and failures with a backoff running.
  void inheritHistory() {
    if (chance(0.4)) {
      int orders = std::uniform_int_distribution<int>(1, c_.budget.orders)(rng_);
      for (int i = 0; i < orders; ++i)
        ledger_.orders.push_back(now_ - upTo(std::chrono::duration_cast<milliseconds>(c_.budget.window)));
      std::sort(ledger_.orders.begin(), ledger_.orders.end());
    }
    if (chance(0.3)) {
      ledger_.failures = std::uniform_int_distribution<int>(1, 8)(rng_);
      ledger_.retryAt = now_ + renew::failureBackoff(ledger_.failures, seconds(0)) -
                        upTo(std::chrono::duration_cast<milliseconds>(renew::failureBackoff(ledger_.failures, seconds(0))));
      ledger_.lastError = "an earlier run's failure";
    }
  }

  // A certificate as a CA makes it: notBefore whole seconds (X.509), so often just
  // before the pass that asked; notAfter one second short of the lifetime (Pebble).
  LiveSet issue(Source source, TimePoint at) {
    LiveSet s;
    s.facts.id = "set-" + std::to_string(++sets_);
    s.facts.source = source;
    s.facts.readable = true;
    s.facts.notBefore = std::chrono::floor<seconds>(at);
    s.facts.notAfter = s.facts.notBefore + (source == Source::Acme ? c_.lifetime : 90 * kDay) - seconds(1);
    s.serial = std::to_string(rng_());
    if (source == Source::Acme) ++issued_;
    return s;
  }

  // What the CA's renewalInfo says of the live set at `at`, as AcmeSource and
  // Lineage::askAri turn it into facts; the time the request takes goes on `clock`.
  void askAri(TimePoint at, TimePoint& clock) {
    if (live_.facts.source != Source::Acme || c_.renewBefore) return;
    if (ariSet_ == live_.facts.id && at < ariAskAgainAt_) return;
    auto limit = acting_.boundAri ? ariTimeLimit(live_.facts, policy_, at) : milliseconds(120'000);
    if (limit.count() == 0) return;  // not asked this pass
    ariSet_ = live_.facts.id;
    ariRenewAt_.reset();
    auto mode = c_.ariModes[std::uniform_int_distribution<std::size_t>(0, c_.ariModes.size() - 1)(rng_)];
    const auto nb = live_.facts.notBefore, na = live_.facts.notAfter;
    const auto life = na - nb;
    std::optional<std::pair<TimePoint, TimePoint>> window;
    switch (mode) {
      case AriMode::None:
      case AriMode::Failing:
        break;
      case AriMode::NeverAnswers:  // accepts the request and says nothing until the limit ends it
        clock += limit;
        break;
      case AriMode::LikePebble:
        window = {nb, na};
        break;
      case AriMode::LikeLetsEncrypt: {
        auto ideal = na - life / 3;
        auto half = std::min<TimePoint::duration>(kDay, life / 10);
        window = {std::max(nb, ideal - half), std::min(na, ideal + half)};
        break;
      }
      case AriMode::InThePast:
        window = {at - hours(1), at - hours(1) + seconds(1)};
        break;
      case AriMode::AfterExpiry:
        window = {na + kDay, na + 2 * kDay};
        break;
      case AriMode::Random: {
        auto start = nb - life + upTo(std::chrono::duration_cast<milliseconds>(3 * life));
        window = {start, start + upTo(std::chrono::duration_cast<milliseconds>(life))};
        break;
      }
    }
    std::optional<TimePoint> caAsked;
    if (window) {
      ariRenewAt_ = renew::ariRenewalTime(window->first, window->second, live_.serial);
      if (c_.ariRetryAfter.count() > 0) caAsked = at + std::min<seconds>(c_.ariRetryAfter, seconds(7 * kDay));
    }
    ariAskAgainAt_ = ariAskAgainAt(at, caAsked);
  }

  Facts facts(const std::set<std::string>& attempted) const {
    Facts f;
    f.live = live_.facts;
    if (now_ >= live_.facts.notAfter) f.live->problem = "the certificate expired";
    if (ariSet_ == live_.facts.id) {
      f.ariRenewAt = ariRenewAt_;
      f.ariAskAgainAt = ariAskAgainAt_;
    }
    f.ledgers[kCa] = ledger_;
    f.attempted = attempted;
    return f;
  }

  // An order, as Lineage::obtain and its journal place it: counted, then asked.
  void obtain(const Decision& d, TimePoint& clock) {
    if (policy_.sources[d.source].kind == Source::SelfSigned) {
      live_ = issue(Source::SelfSigned, clock);
      return;
    }
    // A challenge's DNS looks before any order: short beside the margin, as any
    // lineage that uses a DNS challenge has it (a 1-second margin leaves no time to look).
    clock += upTo(std::min(c_.preOrderDns, std::chrono::duration_cast<milliseconds>(marginFor(live_.facts, policy_)) / 8));
    if (notReadyStreak_ < 2 && chance(c_.notReadyRate)) {  // the record is not there yet: nothing ordered
      ++notReadyStreak_;
      std::optional<TimePoint> liveNotAfter;
      if (now_ < live_.facts.notAfter) liveNotAfter = live_.facts.notAfter;
      renew::recordNotReady(ledger_, notReadyUntil(liveNotAfter, seconds(0), clock), "no TXT record yet");
      return;
    }
    notReadyStreak_ = 0;
    if (!renew::orderGate(ledger_, c_.budget, clock).allowed) return;  // the budget's last gate
    renew::recordOrder(ledger_, c_.budget, clock);
    bool renewing = live_.facts.source == Source::Acme && clock < live_.facts.notAfter;
    // Refused for naming the set it replaces: placed again at once without it, or,
    // as before issue 30, a failed attempt that backs off. A refused order is none.
    if (renewing && chance(c_.replacesRefusedRate) && !acting_.retryWithoutReplaces) {
      renew::recordFailure(ledger_, clock, seconds(0), "serverInternal: could not find an order for the given certificate");
      return;
    }
    if (renewing) live_.renewalOrdered = true;
    // An attempt takes up to a twentieth of the lifetime (a 40-second certificate: 2 s).
    clock += upTo(std::chrono::duration_cast<milliseconds>(std::min<seconds>(c_.lifetime / 20, seconds(30))));
    if (chance(c_.successRate)) {
      renew::recordSuccess(ledger_);
      if (auto broken = retire(clock); !broken.empty()) failures_.push_back(broken);
      live_ = issue(Source::Acme, clock);
    } else {
      auto asked = chance(0.3) ? logUniform(rng_, seconds(1), seconds(7 * kDay)) : seconds(0);
      renew::recordFailure(ledger_, clock, asked, "the CA failed");
      // A failure takes the pass's self-signed fallback only when nothing valid serves.
    }
  }

  // The live set gives way (renewed, or expired and replaced): was it on time?
  std::string retire(TimePoint at) {
    const auto& s = live_;
    if (s.facts.source != Source::Acme || at < s.facts.notAfter) return "";
    if (s.renewalOrdered || s.flaggedAtRisk) return "";
    return "set " + s.facts.id + " (notAfter " + formatTime(s.facts.notAfter) +
           ") expired with no renewal ordered before it and no renewal_at_risk";
  }

  // A pass that could not read the volume: no decision, back when Lineage says.
  std::string failedPass() {
    lastPassFailed_ = true;
    const auto& live = live_.facts;
    TimePoint next = acting_.failedPassWithinLife ? retryAfterFailedPass(live.notAfter, now_) : now_ + seconds(60);
    if (next >= live.notAfter && now_ < live.notAfter && live.source == Source::Acme && !live_.renewalOrdered &&
        !live_.flaggedAtRisk)
      return "set " + live.id + " (notAfter " + formatTime(live.notAfter) + ", lifetime " +
             std::to_string(c_.lifetime.count()) + " s) reached its expiry with no renewal ordered: the pass at " +
             formatTime(now_) + " failed and came back at " + formatTime(next);
    now_ = next;
    return "";
  }

  std::string onePass() {
    if (!lastPassFailed_ && chance(c_.failedPassRate)) return failedPass();
    lastPassFailed_ = false;
    const TimePoint passStart = now_;
    TimePoint clock = now_;
    std::set<std::string> attempted;
    Decision d;
    for (int step = 0; step < 8; ++step) {
      askAri(passStart, clock);
      Facts f = facts(attempted);
      d = decide::decide(f, policy_, passStart);
      if (d.action != Action::Obtain) break;
      attempted.insert(policy_.sources[d.source].id);
      if (policy_.sources[d.source].kind == Source::SelfSigned && live_.facts.source == Source::Acme)
        if (auto broken = retire(clock); !broken.empty()) return broken;
      obtain(d, clock);
      if (!failures_.empty()) return failures_.front();
    }
    if (d.action != Action::Done) return "a pass ended without Done";
    const auto& live = live_.facts;
    bool excused = d.atRisk && (!strict_ || d.atRisk->why.find("budget") != std::string::npos);
    if (d.atRisk && d.atRisk->notAfter == live.notAfter && passStart < live.notAfter && excused)
      live_.flaggedAtRisk = true;
    // The next check never falls after the moment the set's margin says to renew.
    Facts f = facts(attempted);
    if (passStart < live.notAfter) {
      TimePoint renewAt = renewalTime(live, f, policy_);
      if (passStart < renewAt && d.nextCheck > renewAt)
        return "next check " + formatTime(d.nextCheck) + " after the renewal time " + formatTime(renewAt);
      if (d.nextCheck > live.notAfter)
        return "next check " + formatTime(d.nextCheck) + " after notAfter " + formatTime(live.notAfter);
    }
    if (d.nextCheck < passStart) return "next check in the past";
    TimePoint next = std::max(d.nextCheck, clock);
    if (chance(c_.restartRate) && next > clock) next = clock + upTo(std::chrono::duration_cast<milliseconds>(next - clock));
    // A set past its notAfter unrenewed by then broke the promise, whatever comes next.
    if (next >= live.notAfter && live.source == Source::Acme && !live_.renewalOrdered && !live_.flaggedAtRisk)
      return "set " + live.id + " (notAfter " + formatTime(live.notAfter) + ", lifetime " +
             std::to_string(c_.lifetime.count()) + " s) reached its expiry with no renewal ordered; the pass at " +
             formatTime(passStart) + " set the next check at " + formatTime(d.nextCheck);
    now_ = next;
    return "";
  }

  const Case& c_;
  Acting acting_;
  std::mt19937_64 rng_;
  bool lastPassFailed_ = false;
  bool strict_ = false;
  int notReadyStreak_ = 0;
  Policy policy_;
  TimePoint now_;
  LiveSet live_;
  renew::OrderLedger ledger_;
  std::string ariSet_;
  std::optional<TimePoint> ariRenewAt_;
  TimePoint ariAskAgainAt_{};
  int sets_ = 0, issued_ = 0;
  std::vector<std::string> failures_;
};

}  // namespace

// Invariant: a set from a CA is renewed (an order placed) before its notAfter, or decide() said renewal_at_risk for it first.
TEST(Timeliness, EveryCertificateIsRenewedBeforeExpiryOrFlaggedAtRisk) {
  constexpr std::uint64_t kCases = 10'000;
  int broken = 0;
  for (std::uint64_t seed = 1; seed <= kCases && broken < 5; ++seed) {
    Case c = generate(seed);
    if (auto what = Simulation(c).run(); !what.empty()) {
      ADD_FAILURE() << what << "\n  case " << c.describe();
      ++broken;
    }
  }
}

// The property test has teeth: with the acting side as it was before issue 30
// (renewal advice waited for two minutes, an order refused for `replaces` taken
// as a failure, a failed pass retried after a fixed minute), it finds certificates
// that expire unrenewed.
TEST(Timeliness, TheOldActingBehavioursEachBreakThePromise) {
  auto brokenCases = [](Acting acting) {
    int broken = 0;
    for (std::uint64_t seed = 1; seed <= 3'000; ++seed)
      if (!Simulation(generate(seed), acting).run().empty()) ++broken;
    return broken;
  };
  int ari = brokenCases({.boundAri = false}), replaces = brokenCases({.retryWithoutReplaces = false}),
      failedPass = brokenCases({.failedPassWithinLife = false});
  std::cout << "cases of 3000 broken: renewalInfo held 2 min " << ari << ", a refusal for replaces backed off "
            << replaces << ", a failed pass retried after a minute " << failedPass << "\n";
  EXPECT_GT(ari, 0);
  EXPECT_GT(replaces, 0);
  EXPECT_GT(failedPass, 0);
}
