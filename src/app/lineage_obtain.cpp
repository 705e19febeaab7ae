#include <functional>
#include <limits>

#include "app/lineage.h"
#include "app/lineage_pass.h"
#include "core/duration.h"
#include "core/time_format.h"
#include "log/log.h"
#include "renew/order_budget.h"

namespace sc::app {

namespace {

// Counts and remembers a pass's orders in the lineage's state, saved at once: an
// order exists at the CA only after it was counted on disk.
class StateJournal final : public sources::OrderJournal {
 public:
  StateJournal(store::StateStore& store, store::LineageState& state, std::string ca, const renew::OrderBudget& budget,
               std::function<TimePoint()> now, const std::function<Status()>& guard)
      : store_(store), state_(state), ca_(std::move(ca)), budget_(budget), now_(std::move(now)), guard_(guard) {}

  // The account's pace counts the order too, when it is this lineage's turn.
  struct Turn {
    renew::AccountPace* pace = nullptr;
    std::string lineage;
    renew::Urgency urgency;
    std::vector<std::string> names;
  };
  void paceWith(Turn turn) { turn_ = std::move(turn); }

  Status beforeOrder() override {
    if (guard_)
      if (auto ok = guard_(); !ok) return ok;
    auto& ledger = state_.ledgers[ca_];
    TimePoint now = now_();
    auto gate = renew::orderGate(ledger, budget_, now);
    if (!gate.allowed)
      return failAs(ErrorKind::Deferred, gate.why + "; the next order is allowed at " + formatTime(gate.notBefore));
    if (turn_.pace) {  // counted at the account first: one counted and not placed is on the safe side
      if (auto ok = turn_.pace->take(turn_.lineage, turn_.urgency, turn_.names, now); !ok) return ok;
      log::debug("order_counted", {{"name", turn_.lineage}, {"ca", ca_}});
    }
    renew::recordOrder(ledger, budget_, now);
    if (auto ok = store_.save(state_); !ok) {
      ledger.orders.pop_back();
      return wrap("record the order before placing it (none was placed)", ok.error());
    }
    return {};
  }
  void orderPlaced(const store::PendingOrder& order) override {
    state_.pendingOrder = order;
    save();
  }
  void orderEnded() override {
    state_.pendingOrder.reset();
    save();
  }

 private:
  void save() {
    if (auto ok = store_.save(state_); !ok) log::error("state_not_saved", {{"error", ok.error().message}});
  }
  store::StateStore& store_;
  store::LineageState& state_;
  std::string ca_;
  const renew::OrderBudget& budget_;
  std::function<TimePoint()> now_;
  const std::function<Status()>& guard_;
  Turn turn_;
};

// Sources that place no orders at a CA have no budget, only the failure backoff.
const renew::OrderBudget kNoBudget{std::numeric_limits<int>::max(), std::chrono::seconds(1)};

}  // namespace

const renew::OrderBudget& Lineage::budgetFor(const sources::CertSource& issuer) const {
  return issuer.kind() == store::Source::Acme ? policy_.orderBudget : kNoBudget;
}

bool Lineage::publishAndLoad(sources::CertSet set, store::Source source, const std::string& why, Pass& p) {
  auto record = publish(set.files, source, why, p.now);
  if (!record) return false;
  p.changed = true;
  p.untold = true;
  p.linkIsOurs = true;
  if (source == store::Source::SelfSigned && p.current && p.current->record.source != store::Source::SelfSigned)
    p.fellBack = true;
  // What was just written, as it was parsed: not read back.
  LoadedSet c{*record, std::move(set.files), std::move(set.parsed), ""};
  c.problem = problemOf(c.record, *c.parsed, p.now);
  p.current = std::move(c);
  return true;
}

void Lineage::adoptUserSet(Pass& p) {
  // Our valid ACME set steps aside for the user's: kept, to take over when theirs ends.
  std::optional<store::CertFiles> outgoingAcme;
  if (p.current && p.current->problem.empty() && p.current->record.source == store::Source::Acme)
    outgoingAcme = p.current->files;
  auto verdict = std::move(*p.drop);
  p.drop.reset();
  lastDropAt_.reset();
  const auto leaf = verdict.set->parsed.leaf;
  if (!publishAndLoad(std::move(*verdict.set), store::Source::User, "a valid user certificate was dropped in", p))
    return;  // the files stay in pending/ for the next pass
  auto aside = userDrops().movePendingAside("accepted", p.now);
  log::info("user_cert_accepted", {{"name", volume_.name()},
                                   {"names", sources::joinNames(leaf.names())},
                                   {"serial", leaf.serialHex()},
                                   {"issuer", leaf.issuer()},
                                   {"not_after", formatTime(leaf.notAfter())},
                                   {"originals", aside ? *aside : aside.error().message}});
  if (outgoingAcme) {
    if (auto ok = heldSet().hold(*outgoingAcme, store::Source::Acme); !ok)
      log::warn("held_set_not_written", {{"name", volume_.name()}, {"error", ok.error().message}});
    else
      p.held = loadHeld(p.now);
  }
}

void Lineage::refuseUserSet(const std::string& reason, Pass& p) {
  // A gateway that (re)loaded while the refused files sat in live/<name>/ serves
  // them: told again, it reads the set put back in their place.
  p.untold = true;
  p.drop.reset();
  lastDropAt_.reset();
  auto aside = userDrops().movePendingAside("refused", p.now);
  log::warn("user_cert_refused", {{"name", volume_.name()},
                                  {"reason", reason},
                                  {"aside", aside ? *aside : "not moved: " + aside.error().message}});
}

// Not ready is no failure: nothing was refused (a DNS record a person must make
// is not there, or the records sidecert added are not served everywhere yet).
// No backoff grows; the source is asked again soon, and the log says what is
// missing when that changes, not every time.
void Lineage::notReady(renew::OrderLedger& ledger, const Error& error, TimePoint end, Pass& p) {
  bool news = ledger.waitingFor != error.message;
  std::optional<TimePoint> liveNotAfter;
  if (p.facts.live && p.facts.live->usable()) liveNotAfter = p.facts.live->notAfter;
  renew::recordNotReady(ledger, decide::notReadyUntil(liveNotAfter, error.retryAfter, end), error.message);
  log::Fields fields{{"name", volume_.name()}, {"error", error.message}, {"retry_at", formatTime(*ledger.waitUntil)}};
  if (news) log::warn("dns_record_missing", fields);
  else log::debug("dns_record_missing", fields);
}

// Names whose validation the error says failed ("validation of NAME failed", as
// AcmeSource words it); every name of the lineage where it names none of them.
static std::vector<std::string> failedNames(const std::string& message, const std::vector<std::string>& names) {
  std::vector<std::string> out;
  for (const auto& n : names)
    if (message.find("validation of " + n + " failed") != std::string::npos) out.push_back(n);
  return out.empty() ? names : out;
}

void Lineage::noteForAccount(const sources::CertSource& issuer, const Error& error, TimePoint end) {
  auto pace = paces_.find(issuer.id());
  if (pace == paces_.end()) return;
  if (error.is(ErrorKind::Rejected)) {
    if (auto ok = pace->second->validationFailed(failedNames(error.message, policy_.names), end); !ok)
      log::error("account_pace_not_saved", {{"name", volume_.name()}, {"ca", issuer.id()}, {"error", ok.error().message}});
    return;
  }
  if (!error.isProblem(ProblemType::RateLimited)) return;
  bool given = error.retryAfter.count() > 0;
  auto until = end + (given ? error.retryAfter : renew::kRateLimitedDefaultHold);
  auto held = pace->second->hold(until, error.message, end);
  if (!held) {
    log::error("account_pace_not_saved", {{"name", volume_.name()}, {"ca", issuer.id()}, {"error", held.error().message}});
    return;  // held in memory all the same
  }
  if (*held)  // once per hold, whichever lineage met it
    log::warn("account_rate_limited",
              {{"name", volume_.name()},
               {"ca", issuer.id()},
               {"error", error.message},
               {"retry_after", given ? formatDuration(error.retryAfter)
                                     : "none given: " + formatDuration(renew::kRateLimitedDefaultHold) +
                                           ", the shortest window of Let's Encrypt's limits"},
               {"hold_until", formatTime(until)},
               {"held", "every lineage of this account"}});
}

void Lineage::failed(sources::CertSource& issuer, renew::OrderLedger& ledger, const Error& error, TimePoint end,
                     Pass& p) {
  noteForAccount(issuer, error, end);
  renew::recordFailure(ledger, end, error.retryAfter, error.message);
  p.lastError = error.message;
  if (issuer.kind() == store::Source::Acme) ++p.failedAttempts;
  log::warn("issue_failed", {{"name", volume_.name()},
                             {"source", issuer.id()},
                             {"error", error.message},
                             {"failures", ledger.failures},
                             {"retry_at", formatTime(*ledger.retryAt)}});
}

void Lineage::obtain(const decide::Decision& d, Pass& p) {
  sources::CertSource& issuer = *issuers_[d.source];
  p.facts.attempted.insert(issuer.id());
  sources::Request request;
  request.lineage = volume_.name();
  request.names = policy_.names;
  request.keyType = policy_.keyType;
  if (p.current && p.current->problem.empty() && p.current->record.source != store::Source::User)
    request.current = p.current->files;  // the set being renewed, for ARI's `replaces`
  request.resume = p.state.pendingOrder;
  TimePoint end = p.now;
  // Since the pass began, not the attempt: what the pass did first (the CA's
  // renewalInfo, up to kAriMostTime) is time gone too, and a Retry-After counts
  // from the reply.
  auto started = p.clockAtStart;
  // The pass's `now`, moved on by the time gone since.
  auto attemptTime = [&] { return p.now + std::max(TimePoint::duration::zero(), clock_.now() - started); };
  StateJournal journal(state_, p.state, issuer.id(), budgetFor(issuer), attemptTime, orderGuard_);
  if (auto pace = paces_.find(issuer.id()); pace != paces_.end())
    journal.paceWith({pace->second, volume_.name(), urgency(p), policy_.names});
  request.journal = &journal;
  auto obtained = attempt(issuer, request, p.now, attemptTime, end);
  auto& ledger = p.state.ledgers[issuer.id()];
  if (!obtained) {
    switch (obtained.error().kind) {
      case ErrorKind::Cancelled:
        log::info("attempt_stopped", {{"name", volume_.name()}, {"source", issuer.id()}});
        for (auto* other : issuers_) p.facts.attempted.insert(other->id());  // SIGTERM: nothing more this pass
        return;
      case ErrorKind::Deferred:  // the budget's last gate: said by the next decision
        return;
      case ErrorKind::NotReady:
        notReady(ledger, obtained.error(), end, p);
        p.lastError = obtained.error().message;
        return;
      case ErrorKind::General:
      case ErrorKind::Protocol:
      case ErrorKind::Problem:
      case ErrorKind::Unusable:
      case ErrorKind::Rejected:
      case ErrorKind::Conflict:
      case ErrorKind::NotFound:
        failed(issuer, ledger, obtained.error(), end, p);
        return;
    }
  }
  renew::recordSuccess(ledger);
  if (issuer.kind() == store::Source::Acme) p.state.lastIssuance = end;
  const auto& leaf = obtained->parsed.leaf;
  log::info("cert_issued", {{"name", volume_.name()},
                            {"source", store::sourceName(issuer.kind())},
                            {"names", sources::joinNames(policy_.names)},
                            {"serial", leaf.serialHex()},
                            {"issuer", leaf.issuer()},
                            {"not_after", formatTime(leaf.notAfter())}});
  if (d.hold) {
    if (auto ok = heldSet().hold(obtained->files, issuer.kind()); !ok) {
      log::error("held_set_not_written", {{"name", volume_.name()}, {"error", ok.error().message}});
      return;
    }
    p.held = loadHeld(p.now);
    log::info("cert_held", {{"name", volume_.name()},
                            {"source", store::sourceName(issuer.kind())},
                            {"serial", leaf.serialHex()},
                            {"until", p.current ? formatTime(p.facts.live->notAfter) : "now"},
                            {"reason", d.why}});
    return;
  }
  if (!publishAndLoad(std::move(*obtained), issuer.kind(), d.why, p)) {  // the volume refuses writes
    for (auto* other : issuers_) p.facts.attempted.insert(other->id());       // nothing more this pass
    return;
  }
  if (issuer.kind() == store::Source::SelfSigned && reloader_.tellsStandInFirst()) {
    PassResult told;
    p.state.reloadPending = reloadIfNeeded(p, told);
  }
}

void Lineage::carryOut(const decide::Decision& d, Pass& p) {
  using decide::Action;
  switch (d.action) {
    case Action::AdoptUserSet:
      adoptUserSet(p);
      break;
    case Action::RefuseUserSet:
      refuseUserSet(d.why, p);
      break;
    case Action::RestoreLink:
      if (p.current && p.current->files) {
        auto source = p.current->record.source;
        if (auto record = publish(*p.current->files, source,
                                  "live/" + volume_.name() + " was not our set; restored it", p.now)) {
          p.changed = true;
          p.untold = true;
          p.current = load(*record, p.now);  // the same files, maybe damaged: judged again
        }
      }
      p.linkIsOurs = true;  // put back, or could not be: not again this pass
      break;
    case Action::UseHeld: {
      auto held = std::move(*p.held);
      p.held.reset();
      if (publishAndLoad({std::move(*held.files), std::move(*held.parsed)}, held.record.source, d.why, p))
        if (auto ok = heldSet().release(); !ok)
          log::warn("held_set_not_removed", {{"name", volume_.name()}, {"error", ok.error().message}});
      break;
    }
    case Action::Obtain:
      obtain(d, p);
      break;
    case Action::Done:
      break;
  }
}

Result<sources::CertSet> Lineage::attempt(sources::CertSource& issuer, const sources::Request& request,
                                           TimePoint now, const std::function<TimePoint()>& attemptTime,
                                           TimePoint& end) {
  Result<sources::CertSet> obtained = [&]() -> Result<sources::CertSet> {
    try {
      return issuer.obtain(request, now);
    } catch (const std::exception& e) {  // a bug or a reply nobody foresaw: a failed attempt, never a crash
      return failAs(ErrorKind::Protocol, std::string("unexpected failure: ") + e.what());
    }
  }();
  end = attemptTime();
  if (!obtained) return obtained;
  // The check every set passes, whoever made it: nothing unusable reaches the gateway.
  std::string problem = sources::unusableReason(obtained->parsed, policy_.names, end, sources::kIssuedClockSkew);
  if (problem.empty()) return obtained;
  auto aside = volume_.keepAside(obtained->files, "unusable", end);
  log::error("cert_unusable", {{"name", volume_.name()},
                               {"source", issuer.id()},
                               {"reason", problem},
                               {"aside", aside ? *aside : "not kept: " + aside.error().message}});
  return failAs(ErrorKind::Unusable, "the certificate from " + issuer.id() + " is unusable: " + problem);
}

}  // namespace sc::app
