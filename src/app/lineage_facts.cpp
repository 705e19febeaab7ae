#include <algorithm>

#include "app/lineage.h"
#include "app/lineage_pass.h"
#include "core/duration.h"
#include "core/time_format.h"
#include "log/log.h"

namespace sc::app {
namespace {

std::int64_t daysLeft(const sources::ParsedSet& set, TimePoint now) {
  return std::chrono::duration_cast<std::chrono::hours>(set.leaf.notAfter() - now).count() / 24;
}

decide::SetFacts summary(const std::string& id, store::Source source, const std::optional<sources::ParsedSet>& parsed,
                         const std::string& problem) {
  decide::SetFacts f;
  f.id = id;
  f.source = source;
  f.readable = parsed.has_value();
  if (parsed) {
    f.notBefore = parsed->leaf.notBefore();
    f.notAfter = parsed->leaf.notAfter();
  }
  f.problem = problem.empty() && !parsed ? "unreadable" : problem;
  return f;
}

decide::DropFacts dropFacts(const sources::UserVerdict& v, TimePoint lastFileAt) {
  using K = sources::UserVerdict::Kind;
  using V = decide::DropFacts::Verdict;
  V verdict = v.kind == K::Accept ? V::Accept : v.kind == K::Incomplete ? V::Incomplete : V::Refuse;
  return {verdict, v.reason, v.awaited, lastFileAt};
}

}  // namespace

// The CA's renewal window for our live ACME set, asked only when its last
// Retry-After says so and remembered across restarts; never for longer than the
// set's own margin leaves (decide::ariTimeLimit).
void Lineage::askAri(Pass& p, const decide::Policy& policy) {
  const auto& current = p.current;
  if (!current || !current->parsed || !current->problem.empty() || current->record.source != store::Source::Acme ||
      policy_.renewBefore)
    return;
  auto& ari = p.state.ari;
  if (ari && ari->setId == current->record.id && p.now < ari->askAgainAt) return;
  auto set = summary(current->record.id, current->record.source, current->parsed, current->problem);
  auto timeLimit = decide::ariTimeLimit(set, policy, p.now);
  if (timeLimit.count() == 0) return;  // too close to the margin to wait for advice
  ari = store::AriMemory{current->record.id, std::nullopt, decide::ariAskAgainAt(p.now, std::nullopt)};
  for (auto* issuer : issuers_) {
    if (issuer->kind() != store::Source::Acme) continue;
    auto hint = issuer->renewalHint(*current->files, p.now, timeLimit);
    if (!hint) continue;
    ari->renewAt = hint->renewAt;
    ari->askAgainAt = decide::ariAskAgainAt(p.now, hint->askAgainAt);
    log::debug("renewal_info", {{"ca", issuer->id()}, {"renew_at", formatTime(hint->renewAt)},
                                {"ask_again_at", formatTime(ari->askAgainAt)}});
    break;
  }
}

// The facts decide() reads, from what the pass holds now.
void Lineage::refreshFacts(Pass& p, const decide::Policy& policy) {
  askAri(p, policy);
  auto& f = p.facts;
  f.linkIsOurs = p.linkIsOurs;
  f.live.reset();
  if (p.current) f.live = summary(p.current->record.id, p.current->record.source, p.current->parsed, p.current->problem);
  f.held.reset();
  if (p.held) f.held = summary(p.held->record.id, p.held->record.source, p.held->parsed, p.held->problem);
  f.drop.reset();
  if (p.drop) f.drop = dropFacts(*p.drop, lastDropAt_.value_or(p.now));
  f.ariRenewAt.reset();
  f.ariAskAgainAt.reset();
  if (p.state.ari && p.current && p.state.ari->setId == p.current->record.id) {
    f.ariRenewAt = p.state.ari->renewAt;
    f.ariAskAgainAt = p.state.ari->askAgainAt;
  }
  f.ledgers = p.state.ledgers;
  f.accountMayOrderAt.clear();
  for (const auto& [source, pace] : paces_) {
    auto turn = pace->ask(volume_.name(), urgency(p), policy_.names, p.now);
    f.accountMayOrderAt[source] = {turn.at, turn.why};
  }
  f.lastExpiryWarning = p.state.lastExpiryWarning;
  if (f.live && f.live->readable && decide::marginTooLong(*f.live, policy) &&
      marginWarnedFor_ != f.live->id) {
    // A margin at or past the lifetime would make every new certificate due at once.
    log::warn("renew_before_too_long", {{"name", volume_.name()},
                                        {"renew_before", formatDuration(*policy_.renewBefore)},
                                        {"lifetime", formatDuration(std::chrono::duration_cast<std::chrono::seconds>(
                                                         f.live->notAfter - f.live->notBefore))},
                                        {"used", formatDuration(decide::marginFor(*f.live, policy))},
                                        {"advice", "set SIDECERT_RENEW_BEFORE below the certificate's lifetime"}});
    marginWarnedFor_ = f.live->id;
  }
}

decide::Policy Lineage::decidePolicy() const {
  decide::Policy p{policy_.renewBefore, policy_.checkInterval, policy_.userGrace, {}};
  for (auto* issuer : issuers_) p.sources.push_back({issuer->id(), issuer->kind(), budgetFor(*issuer)});
  return p;
}

void Lineage::report(const decide::Decision& d, Pass& p) {
  for (const auto& deferral : d.deferred) {
    log::Fields fields{{"name", volume_.name()},
                       {"source", deferral.source},
                       {"reason", deferral.why},
                       {"next_order_at", formatTime(deferral.until)}};
    auto& logged = deferralLogged_[deferral.source];
    if (deferral.waiting)  // the wait itself was said when it began (dns_record_missing)
      log::debug("order_deferred", fields);
    else if (deferral.paced && logged != deferral.until)  // a turn to wait for, no fault
      log::info("order_paced", fields);
    else if (deferral.paced)
      log::debug("order_paced", fields);
    else if (logged != deferral.until)  // once per wait, not once per pass
      log::warn("order_deferred", fields);
    logged = deferral.until;
  }
  if (d.warnExpiring) {
    const auto& leaf = p.current->parsed->leaf;
    log::warn("user_cert_expiring",
              {{"name", volume_.name()},
               {"not_after", formatTime(leaf.notAfter())},
               {"days_left", daysLeft(*p.current->parsed, p.now)},
               {"advice", "drop in a renewed certificate; sidecert switches to ACME when it expires"}});
    p.state.lastExpiryWarning = p.now;
    p.facts.lastExpiryWarning = p.now;
  }
  if (d.atRisk && riskLogged_ != std::pair(d.atRisk->notAfter, d.atRisk->orderAllowedAt)) {  // once per risk
    log::error("renewal_at_risk",
               {{"name", volume_.name()},
                {"reason", d.atRisk->why},
                {"not_after", formatTime(d.atRisk->notAfter)},
                {"next_order_at", formatTime(d.atRisk->orderAllowedAt)},
                {"advice", "the certificate in place expires before any CA may be asked again; raise "
                           "SIDECERT_ORDER_BUDGET (or SIDECERT_ACCOUNT_ORDER_LIMIT, within the CA's), fix what the CA's last error names, or copy your own set into live/" +
                               volume_.name() + "/"}});
    riskLogged_ = std::pair(d.atRisk->notAfter, d.atRisk->orderAllowedAt);
  }
}

renew::Urgency Lineage::urgency(const Pass& p) const {
  const auto& c = p.current;
  if (!c || !c->parsed || !c->problem.empty() || c->record.source == store::Source::SelfSigned) return {};
  return {c->parsed->leaf.notAfter()};
}

void Lineage::tellPaces(const decide::Decision& d, const Pass& p) {
  for (const auto& [source, pace] : paces_) {
    auto paced = std::find_if(d.deferred.begin(), d.deferred.end(),
                              [&](const decide::Deferral& x) { return x.source == source && x.paced; });
    bool waits = d.action == decide::Action::Done && paced != d.deferred.end();
    auto told = waits ? pace->wait(volume_.name(), urgency(p), paced->until, p.now) : pace->idle(volume_.name());
    if (!told)  // status shows the turn from this file; the turn itself is kept in memory
      log::warn("account_pace_not_saved", {{"name", volume_.name()}, {"ca", source}, {"error", told.error().message}});
  }
}

void Lineage::reportFacts(const Pass& p, const decide::Policy& policy, PassResult& result) const {
  if (p.facts.live && p.facts.live->readable) result.margin = decide::marginFor(*p.facts.live, policy);
  result.heldReady = p.held && p.held->problem.empty();
  result.fellBack = p.fellBack;
  result.failedAttempts = p.failedAttempts;
  result.lastIssuance = p.state.lastIssuance;
  std::optional<TimePoint> lastFailure;
  for (const auto* issuer : issuers_) {
    if (issuer->kind() != store::Source::Acme) continue;
    auto it = p.state.ledgers.find(issuer->id());
    if (it == p.state.ledgers.end()) continue;
    const auto& ledger = it->second;
    if (!ledger.orders.empty())
      result.lastAttempt = std::max(result.lastAttempt.value_or(ledger.orders.back()), ledger.orders.back());
    result.caFailures = std::max(result.caFailures, ledger.failures);
    if (ledger.failures > 0 && ledger.retryAt && (!lastFailure || *ledger.retryAt > *lastFailure)) {
      lastFailure = ledger.retryAt;
      result.caLastError = ledger.lastError;
    }
  }
  result.reloadFailures = p.state.reloadFailures;
  result.reloadError = p.state.lastReloadError;
}

}  // namespace sc::app
