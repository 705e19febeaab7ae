#include "decide/decide.h"

#include <algorithm>

#include "core/duration.h"
#include "core/time_format.h"
#include "renew/renewal.h"

namespace sc::decide {
namespace {

using store::Source;

int rank(Source s) { return static_cast<int>(s); }  // lower is preferred

Decision act(Action action, std::string why) {
  Decision d;
  d.action = action;
  d.why = std::move(why);
  return d;
}

std::chrono::seconds lifetimeOf(const SetFacts& set) {
  return std::chrono::duration_cast<std::chrono::seconds>(set.notAfter - set.notBefore);
}

// The sources a pass would ask, in order, and why.
struct Plan {
  std::vector<std::size_t> order;  // indexes into Policy::sources
  std::string why;
  bool hold = false;
};

Plan planForUserSet(const Facts& f, const Policy& p, TimePoint now) {
  Plan plan;
  const SetFacts& live = *f.live;
  bool covered = f.held && f.held->usable() && f.held->notAfter > live.notAfter;
  if (now < renewalTime(live, f, p) || covered) return plan;  // a valid user certificate is never replaced
  // Obtained while the user's still serves, published the moment it ends: one
  // reload, and no self-signed set in between where a CA answers.
  plan.hold = true;
  plan.why = "the user certificate expires at " + formatTime(live.notAfter) +
             "; an ACME certificate is obtained ahead to take over then";
  for (std::size_t i = 0; i < p.sources.size(); ++i)
    if (p.sources[i].kind == Source::Acme) plan.order.push_back(i);
  return plan;
}

Plan planForOurSet(const Facts& f, const Policy& p, TimePoint now) {
  Plan plan;
  const SetFacts& live = *f.live;
  bool due = now >= renewalTime(live, f, p);
  for (std::size_t i = 0; i < p.sources.size(); ++i) {
    int r = rank(p.sources[i].kind);
    if (r < rank(live.source) || (due && r == rank(live.source))) plan.order.push_back(i);
  }
  plan.why = due ? "renewal due" : std::string("a better source than ") + store::sourceName(live.source) + " may answer";
  return plan;
}

Plan planWithoutAUsableSet(const Facts& f, const Policy& p) {
  Plan plan;
  if (!f.live)
    plan.why = "no certificate in the volume yet";
  else if (f.live->source == Source::User)
    plan.why = "the user certificate is no longer usable: " + f.live->problem;
  else
    plan.why = "the certificate in place is not usable: " + f.live->problem;
  // Nothing the gateway could serve: the fallback first, since it needs no network.
  // A set that is only expired, revoked or short of a name keeps serving while a CA
  // is asked first, so that one reload replaces it.
  bool nothingToServe = !f.live || !f.live->readable;
  std::size_t fallback = p.sources.size() - 1;
  if (nothingToServe && p.sources.size() > 1) plan.order.push_back(fallback);
  for (std::size_t i = 0; i < p.sources.size(); ++i)
    if (!(nothingToServe && p.sources.size() > 1 && i == fallback)) plan.order.push_back(i);
  return plan;
}

Plan sourcesToAsk(const Facts& f, const Policy& p, TimePoint now) {
  if (p.sources.empty()) return {};
  if (!f.live || !f.live->usable()) return planWithoutAUsableSet(f, p);
  return f.live->source == Source::User ? planForUserSet(f, p, now) : planForOurSet(f, p, now);
}

struct ClosedGate : renew::OrderGate {
  bool paced = false;  // the account's pace is what closes it last
};

// What keeps a source closed at `now`: the lineage's own budget or backoff, or
// the account's pace, whichever opens later.
std::optional<ClosedGate> closedGate(const Facts& f, const SourceFacts& source, TimePoint now) {
  std::optional<ClosedGate> closed;
  if (auto ledger = f.ledgers.find(source.id); ledger != f.ledgers.end()) {
    auto gate = renew::orderGate(ledger->second, source.budget, now);
    if (!gate.allowed) closed = ClosedGate{gate, false};
  }
  auto turn = f.accountMayOrderAt.find(source.id);
  if (turn != f.accountMayOrderAt.end() && turn->second.at > now && (!closed || turn->second.at > closed->notBefore))
    closed = ClosedGate{{false, turn->second.at, turn->second.why, false}, true};
  return closed;
}

// The quarter of what is left, within [kRetryDueAtLeast, kRetryUnusable].
std::chrono::seconds retryWhileDue(TimePoint notAfter, TimePoint now) {
  auto left = std::chrono::duration_cast<std::chrono::seconds>(notAfter - now) / 4;
  return std::clamp(left, kRetryDueAtLeast, kRetryUnusable);
}

TimePoint nextCheck(const Facts& f, const Policy& p, const Plan& plan, TimePoint now) {
  // The earliest moment a source this pass would ask may be asked again.
  std::optional<TimePoint> reopens;
  bool anyOpen = false;
  for (auto i : plan.order) {
    if (auto gate = closedGate(f, p.sources[i], now))
      reopens = reopens ? std::min(*reopens, gate->notBefore) : gate->notBefore;
    else
      anyOpen = true;
  }
  TimePoint next;
  if (!f.live || !f.live->usable()) {
    next = now + kRetryUnusable;
  } else {
    const SetFacts& live = *f.live;
    TimePoint renewAt = renewalTime(live, f, p);
    if (live.source == Source::User && now >= renewAt)
      renewAt = std::min(live.notAfter, now + std::min(p.checkInterval, kExpiryWarningEvery));
    else if (now >= renewAt)  // asked and still due: when a source reopens, or soon
      renewAt = anyOpen || !reopens ? now + retryWhileDue(live.notAfter, now) : *reopens;
    next = renew::nextCheck(now, renewAt, p.checkInterval);
    if (live.source == Source::Acme && f.ariRenewAt && f.ariAskAgainAt)
      next = std::min(next, std::max(now, *f.ariAskAgainAt));
    next = std::min(next, std::max(now, live.notAfter));  // what replaces it, once it expires
  }
  if (reopens) next = std::min(next, std::max(now, *reopens));
  if (f.drop && f.drop->verdict == DropFacts::Verdict::Incomplete)
    next = std::min(next, std::max(now, f.drop->lastFileAt + p.userGrace));
  return next;
}

// Whether every CA stays closed (budget, backoff) from the moment the set in place
// falls due until it expires. A self-signed set has no CA certificate to lose, and
// a user's whose successor is already held needs no CA.
std::optional<AtRisk> riskOf(const Facts& f, const Policy& p, TimePoint now) {
  if (!f.live || !f.live->usable() || f.live->source == Source::SelfSigned) return std::nullopt;
  const SetFacts& live = *f.live;
  if (live.source == Source::User && f.held && f.held->usable() && f.held->notAfter > live.notAfter)
    return std::nullopt;
  TimePoint due = std::max(now, renewalTime(live, f, p));
  std::optional<AtRisk> risk;
  for (const auto& source : p.sources) {
    if (source.kind != Source::Acme) continue;
    auto gate = closedGate(f, source, due);
    if (!gate) return std::nullopt;  // this CA may be asked when the set is due
    if (!risk || gate->notBefore < risk->orderAllowedAt) risk = AtRisk{gate->why, live.notAfter, gate->notBefore};
  }
  if (risk && risk->orderAllowedAt < live.notAfter) return std::nullopt;
  return risk;
}

std::optional<Decision> userDropDecision(const DropFacts& drop, const Policy& p, TimePoint now) {
  using V = DropFacts::Verdict;
  if (drop.verdict == V::Accept) return act(Action::AdoptUserSet, "a valid user certificate was dropped in");
  if (drop.verdict == V::Refuse) return act(Action::RefuseUserSet, drop.reason);
  if (now >= drop.lastFileAt + p.userGrace)
    return act(Action::RefuseUserSet,
               drop.reason + ", and no new " + drop.awaited + " arrived within " + formatDuration(p.userGrace));
  return std::nullopt;  // the rest may be on its way
}

}  // namespace

std::chrono::seconds marginFor(const SetFacts& set, const Policy& policy) {
  if (!policy.renewBefore) return renew::lifetimeMargin({set.notBefore, set.notAfter});
  return marginTooLong(set, policy) ? lifetimeOf(set) / 3 : *policy.renewBefore;
}

bool marginTooLong(const SetFacts& set, const Policy& policy) {
  return policy.renewBefore && *policy.renewBefore >= lifetimeOf(set);
}

TimePoint renewalTime(const SetFacts& set, const Facts& facts, const Policy& policy) {
  auto margin = marginFor(set, policy);
  // A configured margin is used as given; without one, ARI's window wins where the CA offers it.
  if (set.source != Source::Acme || policy.renewBefore || !facts.ariRenewAt) return set.notAfter - margin;
  return std::min(*facts.ariRenewAt, set.notAfter - margin / kAriLatestMarginDivisor);
}

std::chrono::milliseconds ariTimeLimit(const SetFacts& set, const Policy& policy, TimePoint now) {
  auto untilDue = std::chrono::duration_cast<std::chrono::milliseconds>(set.notAfter - marginFor(set, policy) - now);
  auto limit = std::min<std::chrono::milliseconds>(untilDue / 2, kAriMostTime);
  return limit < kAriLeastTime ? std::chrono::milliseconds(0) : limit;
}

TimePoint retryAfterFailedPass(std::optional<TimePoint> liveNotAfter, TimePoint now) {
  if (!liveNotAfter || *liveNotAfter <= now) return now + kRetryUnusable;  // nothing left to save
  auto quarter = std::chrono::duration_cast<std::chrono::milliseconds>(*liveNotAfter - now) / 4;
  return now + std::clamp<std::chrono::milliseconds>(quarter, kRetryFailedPassAtLeast, kRetryUnusable);
}

TimePoint notReadyUntil(std::optional<TimePoint> liveNotAfter, std::chrono::seconds asked, TimePoint end) {
  auto wait = asked.count() > 0 ? asked : kRecordRecheck;
  return std::min(end + wait, retryAfterFailedPass(liveNotAfter, end));
}

TimePoint ariAskAgainAt(TimePoint now, std::optional<TimePoint> caAsked) {
  if (!caAsked) return now + kAriDefaultRetry;
  auto wait = std::chrono::duration_cast<std::chrono::seconds>(*caAsked - now);
  return now + std::clamp(wait, kAriMinRetry, kAriMaxRetry);
}

Decision decide(const Facts& f, const Policy& p, TimePoint now) {
  if (f.drop)
    if (auto d = userDropDecision(*f.drop, p, now)) return *d;
  if (!f.linkIsOurs && f.live) return act(Action::RestoreLink, "live/<name> was not our set");
  bool usable = f.live && f.live->usable();
  if (!usable && f.held && f.held->usable())
    return act(Action::UseHeld, f.live ? "the ACME certificate obtained ahead takes over: " + f.live->problem
                                       : "the ACME certificate obtained ahead takes over");

  Decision d;
  if (usable && f.live->source == Source::User && now >= renewalTime(*f.live, f, p))
    d.warnExpiring = !f.lastExpiryWarning || now - *f.lastExpiryWarning >= kExpiryWarningEvery;
  Plan plan = sourcesToAsk(f, p, now);
  for (auto i : plan.order) {
    const SourceFacts& source = p.sources[i];
    if (f.attempted.count(source.id)) continue;
    if (auto gate = closedGate(f, source, now)) {
      d.deferred.push_back({source.id, gate->notBefore, gate->why, gate->waiting, gate->paced});
      continue;
    }
    d.action = Action::Obtain;
    d.source = i;
    d.hold = plan.hold;
    d.why = plan.why;
    return d;
  }
  d.action = Action::Done;
  d.nextCheck = nextCheck(f, p, plan, now);
  d.atRisk = riskOf(f, p, now);
  return d;
}

}  // namespace sc::decide
