#include "app/lineage.h"

#include <algorithm>
#include <functional>
#include <limits>

#include "core/duration.h"
#include "renew/order_budget.h"
#include "core/time_format.h"
#include "log/log.h"
#include "renew/renewal.h"
#include "sources/user_source.h"
#include "swarm/restore.h"
#include "swarm/set_store.h"

namespace sc::app {
namespace {

std::vector<std::string> appended(std::vector<std::string> a, const std::vector<std::string>& b) {
  for (const auto& x : b)
    if (std::find(a.begin(), a.end(), x) == a.end()) a.push_back(x);
  return a;
}

std::int64_t daysLeft(const sources::ParsedSet& set, TimePoint now) {
  return std::chrono::duration_cast<std::chrono::hours>(set.leaf.notAfter() - now).count() / 24;
}

}  // namespace

std::optional<LiveStatus> describe(const store::SetRecord& record, const std::optional<sources::ParsedSet>& parsed,
                                   const std::string& problem) {
  LiveStatus s;
  s.source = store::sourceName(record.source);
  s.problem = problem;
  if (parsed) {
    s.names = parsed->leaf.dnsNames();
    s.issuer = parsed->leaf.issuer();
    s.serial = parsed->leaf.serialHex();
    s.notBefore = parsed->leaf.notBefore();
    s.notAfter = parsed->leaf.notAfter();
  }
  return s;
}

Lineage::Lineage(Policy policy, store::Volume& volume, store::StateStore& state,
                 std::vector<sources::CertSource*> issuers, reload::Reloader& reloader, const TimeSource& clock)
    : policy_(std::move(policy)),
      volume_(volume),
      state_(state),
      issuers_(std::move(issuers)),
      reloader_(reloader),
      clock_(clock) {}

// combined.pem is made from the four files, never taken from a user: one written
// over ours goes aside (ourRecord puts ours back), and the rest is judged as a drop.
void Lineage::setAsideForeignCombined(store::LiveView& view, TimePoint now) {
  auto it = std::find(view.foreign.begin(), view.foreign.end(), store::kCombinedFile);
  if (it == view.foreign.end() || view.link != store::LiveView::Link::Ours) return;
  auto aside = volume_.moveLiveAside(view, {store::kCombinedFile}, "ignored", now);
  log::warn("user_file_ignored",
            {{"name", volume_.name()},
             {"file", store::kCombinedFile},
             {"reason", "sidecert makes combined.pem from privkey.pem, cert.pem and chain.pem: copy in those"},
             {"aside", aside ? *aside : "not moved: " + aside.error().message}});
  view.foreign.erase(it);
  view.missing.push_back(store::kCombinedFile);
}

void Lineage::takeUserFiles(const store::LiveView& view, TimePoint now) {
  std::vector<std::pair<std::string, std::string>> read;
  for (const auto& file : view.foreign) {
    auto bytes = volume_.readLiveFile(file);
    if (!bytes) {
      auto aside = volume_.moveLiveAside(view, view.foreign, "refused", now);
      log::warn("user_cert_refused", {{"name", volume_.name()},
                                      {"reason", bytes.error().message},
                                      {"aside", aside ? *aside : "not moved: " + aside.error().message}});
      return;
    }
    read.emplace_back(file, *bytes);
  }
  // A link someone put at live/<name> leads to their own folder: copy, keep their files.
  bool keepOriginals = view.link == store::LiveView::Link::Foreign && view.linkIsSymlink;
  for (const auto& [file, bytes] : read) {
    if (auto ok = volume_.takeIntoPending(file, bytes, now, !keepOriginals); !ok) {
      log::error("user_files_not_taken", {{"name", volume_.name()}, {"file", file}, {"error", ok.error().message}});
      return;
    }
  }
  if (keepOriginals)
    if (auto aside = volume_.moveLiveAside(view, {}, "replaced", now); !aside)
      log::error("user_link_not_moved", {{"name", volume_.name()}, {"error", aside.error().message}});
  std::string files;
  for (const auto& f : view.foreign) files += (files.empty() ? "" : ",") + f;
  log::info("user_files_received", {{"name", volume_.name()}, {"files", files}});
  lastDropAt_ = now;
  incompleteLogged_ = false;
}

namespace {

// Counts and remembers a pass's orders in the lineage's state, saved at once: an
// order exists at the CA only after it was counted on disk.
class StateJournal final : public sources::OrderJournal {
 public:
  StateJournal(store::StateStore& store, store::LineageState& state, std::string ca, const renew::OrderBudget& budget,
               std::function<TimePoint()> now, const std::function<Status()>& guard)
      : store_(store), state_(state), ca_(std::move(ca)), budget_(budget), now_(std::move(now)), guard_(guard) {}

  Status beforeOrder() override {
    if (guard_)
      if (auto ok = guard_(); !ok) return ok;
    auto& ledger = state_.ledgers[ca_];
    TimePoint now = now_();
    auto gate = renew::orderGate(ledger, budget_, now);
    if (!gate.allowed)
      return failAs(ErrorKind::Deferred, gate.why + "; the next order is allowed at " + formatTime(gate.notBefore));
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
};

// Sources that place no orders at a CA have no budget, only the failure backoff.
const renew::OrderBudget kNoBudget{std::numeric_limits<int>::max(), std::chrono::seconds(1)};

}  // namespace

const renew::OrderBudget& Lineage::budgetFor(const sources::CertSource& issuer) const {
  return issuer.kind() == store::Source::Acme ? policy_.orderBudget : kNoBudget;
}


// Everything one pass knows and has done.
struct Lineage::Pass {
  TimePoint now;
  store::LineageState state;
  std::optional<LoadedSet> current;  // what the gateway is served, or our last set
  std::optional<LoadedSet> held;
  std::optional<sources::UserVerdict> drop;
  bool linkIsOurs = false;  // live/<name> leads to our current set
  decide::Facts facts;
  bool changed = false;
  bool untold = false;  // the gateway has not been told of the live set yet
  std::string lastError;  // the last source that failed, for the fallback's warning
  int failedAttempts = 0;
  bool fellBack = false;  // the fallback was published over a CA's set
};

namespace {

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

std::optional<store::SetRecord> Lineage::publish(const store::CertFiles& files, store::Source source,
                                                 const std::string& reason, TimePoint now) {
  auto record = volume_.publish(files, source, now);
  if (!record) {
    log::error("publish_failed", {{"name", volume_.name()},
                                  {"source", store::sourceName(source)},
                                  {"error", record.error().message},
                                  {"kept", "the previous set stays in place"}});
    return std::nullopt;
  }
  log::info("source_chosen", {{"name", volume_.name()},
                              {"source", store::sourceName(source)},
                              {"reason", reason},
                              {"set", record->id}});
  return *record;
}

std::optional<Lineage::LoadedSet> Lineage::load(const std::optional<store::SetRecord>& record, TimePoint now) {
  if (!record) return std::nullopt;
  LoadedSet c{*record, std::nullopt, std::nullopt, ""};
  auto files = volume_.readSet(record->id);
  if (!files) {
    c.problem = files.error().message;
    return c;
  }
  c.files = *files;
  judge(c, now);
  return c;
}

// Parses a set's files and says why it cannot serve, or "".
void Lineage::judge(LoadedSet& c, TimePoint now) {
  auto parsed = sources::parseFiles(*c.files);
  if (!parsed) {
    c.problem = parsed.error().message;
    return;
  }
  c.parsed = std::move(*parsed);
  c.problem = problemOf(c.record, *c.parsed, now);
}

// Our own sets must cover every name we issue for; a user's, the configured ones.
std::string Lineage::problemOf(const store::SetRecord& record, const sources::ParsedSet& parsed, TimePoint now) {
  const auto& names = record.source == store::Source::User ? policy_.requiredNames : policy_.names;
  auto skew = record.source == store::Source::User ? std::chrono::seconds(0) : sources::kIssuedClockSkew;
  return volume_.isRevoked(record.id) ? "the certificate was revoked"
                                      : sources::unusableReason(parsed, names, now, skew);
}

std::optional<Lineage::LoadedSet> Lineage::loadHeld(TimePoint now) {
  auto held = volume_.held();
  if (!held) {
    log::warn("held_set_unreadable", {{"name", volume_.name()}, {"error", held.error().message}});
    return std::nullopt;
  }
  if (!*held) return std::nullopt;
  auto& [source, files] = **held;
  LoadedSet h{{"held", source}, files, std::nullopt, ""};
  judge(h, now);
  if (!h.problem.empty()) {  // expired in reserve, or for names no longer configured
    log::info("held_set_dropped", {{"name", volume_.name()}, {"reason", h.problem}});
    if (auto ok = volume_.releaseHeld(); !ok)
      log::warn("held_set_not_removed", {{"name", volume_.name()}, {"error", ok.error().message}});
    return std::nullopt;
  }
  return h;
}

// live/<name> when it is ours (with files someone removed or replaced put back),
// else the set we published last.
std::optional<store::SetRecord> Lineage::ourRecord(const store::LiveView& view) {
  if (view.link != store::LiveView::Link::Ours) {
    auto latest = volume_.latestSet();
    return latest ? *latest : std::nullopt;
  }
  auto damaged = appended(view.foreign, view.missing);
  if (!damaged.empty()) {
    if (auto ok = volume_.restoreFiles(*view.set, damaged); !ok)
      log::error("restore_failed", {{"name", volume_.name()}, {"error", ok.error().message}});
    else if (!view.missing.empty() && view.foreign.empty())
      log::warn("live_files_restored", {{"name", volume_.name()}, {"files", sources::joinNames(view.missing)}});
  }
  return view.set;
}

std::optional<sources::UserVerdict> Lineage::judgeDrop(const std::optional<LoadedSet>& current, TimePoint now) {
  auto dropped = volume_.pending();
  if (!dropped) {
    log::error("user_files_unreadable", {{"name", volume_.name()}, {"error", dropped.error().message}});
    return std::nullopt;
  }
  if (dropped->empty()) return std::nullopt;
  if (!lastDropAt_) lastDropAt_ = now;  // dropped before a restart: the grace starts again
  auto verdict = sources::judgeUserFiles(*dropped, current ? current->files : std::nullopt, policy_.requiredNames, now);
  if (verdict.kind == sources::UserVerdict::Kind::Incomplete && now < *lastDropAt_ + policy_.userGrace &&
      !incompleteLogged_) {
    log::info("user_cert_incomplete", {{"name", volume_.name()},
                                       {"reason", verdict.reason},
                                       {"waiting_for", verdict.awaited},
                                       {"until", formatTime(*lastDropAt_ + policy_.userGrace)}});
    incompleteLogged_ = true;
  }
  return verdict;
}

// The CA's renewal window for our live ACME set, asked only when its last
// Retry-After says so and remembered across restarts.
void Lineage::askAri(Pass& p) {
  const auto& current = p.current;
  if (!current || !current->parsed || !current->problem.empty() || current->record.source != store::Source::Acme ||
      policy_.renewBefore)
    return;
  auto& ari = p.state.ari;
  if (ari && ari->setId == current->record.id && p.now < ari->askAgainAt) return;
  ari = store::AriMemory{current->record.id, std::nullopt, p.now + kAriDefaultRetry};
  for (auto* issuer : issuers_) {
    if (issuer->kind() != store::Source::Acme) continue;
    auto hint = issuer->renewalHint(*current->files, p.now);
    if (!hint) continue;
    auto wait = hint->askAgainAt ? std::chrono::duration_cast<std::chrono::seconds>(*hint->askAgainAt - p.now)
                                 : kAriDefaultRetry;
    ari->renewAt = hint->renewAt;
    ari->askAgainAt = p.now + std::clamp(wait, kAriMinRetry, kAriMaxRetry);
    log::debug("renewal_info", {{"ca", issuer->id()}, {"renew_at", formatTime(hint->renewAt)},
                                {"ask_again_at", formatTime(ari->askAgainAt)}});
    break;
  }
}

// The facts decide() reads, from what the pass holds now.
void Lineage::refreshFacts(Pass& p, const decide::Policy& policy) {
  askAri(p);
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
    auto& logged = deferralLogged_[deferral.source];
    if (logged != deferral.until)  // once per wait, not once per pass
      log::warn("order_deferred", {{"name", volume_.name()},
                                   {"source", deferral.source},
                                   {"reason", deferral.why},
                                   {"next_order_at", formatTime(deferral.until)}});
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
  auto aside = volume_.movePendingAside("accepted", p.now);
  log::info("user_cert_accepted", {{"name", volume_.name()},
                                   {"names", sources::joinNames(leaf.dnsNames())},
                                   {"serial", leaf.serialHex()},
                                   {"issuer", leaf.issuer()},
                                   {"not_after", formatTime(leaf.notAfter())},
                                   {"originals", aside ? *aside : aside.error().message}});
  if (outgoingAcme) {
    if (auto ok = volume_.hold(*outgoingAcme, store::Source::Acme); !ok)
      log::warn("held_set_not_written", {{"name", volume_.name()}, {"error", ok.error().message}});
    else
      p.held = loadHeld(p.now);
  }
}

void Lineage::refuseUserSet(const std::string& reason, Pass& p) {
  p.drop.reset();
  lastDropAt_.reset();
  auto aside = volume_.movePendingAside("refused", p.now);
  log::warn("user_cert_refused", {{"name", volume_.name()},
                                  {"reason", reason},
                                  {"aside", aside ? *aside : "not moved: " + aside.error().message}});
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
  auto started = clock_.now();
  // The pass's `now`, moved on by what the attempt has taken so far.
  auto attemptTime = [&] { return p.now + std::max(TimePoint::duration::zero(), clock_.now() - started); };
  StateJournal journal(state_, p.state, issuer.id(), budgetFor(issuer), attemptTime, orderGuard_);
  request.journal = &journal;
  auto obtained = attempt(issuer, request, p.now, attemptTime, end);
  if (!obtained && obtained.error().is(ErrorKind::Cancelled)) {
    log::info("attempt_stopped", {{"name", volume_.name()}, {"source", issuer.id()}});
    for (auto* other : issuers_) p.facts.attempted.insert(other->id());  // SIGTERM: nothing more this pass
    return;
  }
  if (!obtained && obtained.error().is(ErrorKind::Deferred)) return;  // the budget's last gate: said by the next decision
  auto& ledger = p.state.ledgers[issuer.id()];
  if (!obtained) {
    renew::recordFailure(ledger, end, obtained.error().retryAfter, obtained.error().message);
    p.lastError = obtained.error().message;
    if (issuer.kind() == store::Source::Acme) ++p.failedAttempts;
    log::warn("issue_failed", {{"name", volume_.name()},
                               {"source", issuer.id()},
                               {"error", obtained.error().message},
                               {"failures", ledger.failures},
                               {"retry_at", formatTime(*ledger.retryAt)}});
    return;
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
    if (auto ok = volume_.hold(obtained->files, issuer.kind()); !ok) {
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
        if (auto ok = volume_.releaseHeld(); !ok)
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

bool Lineage::reloadIfNeeded(Pass& p, PassResult& result) {
  if (!p.untold && !p.state.reloadPending) return false;
  reload::ReloadEvent event{volume_.name(), (volume_.root() / volume_.liveRelative()).string(),
                            p.current ? store::sourceName(p.current->record.source) : "none",
                            p.current ? p.current->files : std::nullopt};
  auto ok = reloader_.reload(event);
  if (ok && reloader_.describe() == "none") {
    log::debug("reload_skipped", {{"name", volume_.name()}, {"reason", "no reload action is configured"}});
  } else if (ok) {
    log::info("reload_done", {{"name", volume_.name()}, {"action", reloader_.describe()}});
    result.reloaded = true;
  } else if (ok.error().is(ErrorKind::Cancelled)) {  // SIGTERM: the next start reloads
    log::info("reload_stopped", {{"name", volume_.name()}, {"action", reloader_.describe()}});
  } else {
    log::error("reload_failed", {{"name", volume_.name()},
                                 {"action", reloader_.describe()},
                                 {"error", ok.error().message},
                                 {"retry_in", formatDuration(kReloadRetry)}});
    result.nextCheck = std::min(result.nextCheck, p.now + kReloadRetry);
    result.reloadFailed = true;
    ++p.state.reloadFailures;
    p.state.lastReloadError = ok.error().message;
  }
  if (ok) {
    p.state.reloadFailures = 0;
    p.state.lastReloadError.clear();
  }
  p.untold = false;
  return !ok;
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

bool Lineage::restore(const store::CertFiles& files, store::Source source, TimePoint now) {
  auto parsed = sources::parseFiles(files);
  swarm::RestoreFacts facts;
  facts.swarmHasSet = true;
  facts.swarmSelfSigned = source == store::Source::SelfSigned;
  facts.swarmFingerprint = swarm::fingerprintOf(files.cert);
  facts.swarmUsable = parsed && problemOf({"stored", source}, *parsed, now).empty();
  auto view = volume_.inspect();
  if (!view) {
    log::error("volume_unreadable", {{"name", volume_.name()}, {"error", view.error().message}});
    return false;
  }
  auto current = load(ourRecord(*view), now);
  if (current && current->files && current->problem.empty())
    facts.localFingerprint = swarm::fingerprintOf(current->files->cert);
  if (!swarm::shouldRestore(facts)) return false;
  auto record = publish(files, source, "the swarm's store holds a newer set than this node's volume", now);
  if (!record) return false;
  const auto& leaf = parsed->leaf;
  log::info("swarm_set_restored", {{"name", volume_.name()},
                                   {"source", store::sourceName(source)},
                                   {"serial", leaf.serialHex()},
                                   {"not_after", formatTime(leaf.notAfter())}});
  return true;
}

void Lineage::reloadOnNextPass() {
  auto state = state_.load();
  state.reloadPending = true;
  if (auto ok = state_.save(state); !ok) log::error("state_not_saved", {{"error", ok.error().message}});
}

PassResult Lineage::pass(TimePoint now) {
  PassResult result;
  auto view = volume_.inspect();
  if (!view) {
    log::error("volume_unreadable", {{"name", volume_.name()}, {"error", view.error().message}});
    result.nextCheck = now + kRetryAfterError;
    return result;
  }
  setAsideForeignCombined(*view, now);
  if (!view->foreign.empty()) takeUserFiles(*view, now);

  Pass p;
  p.now = now;
  p.state = state_.load();
  p.current = load(ourRecord(*view), now);
  p.linkIsOurs = view->link == store::LiveView::Link::Ours;
  p.drop = judgeDrop(p.current, now);
  p.held = loadHeld(now);
  if (firstPass_ && p.current && p.current->problem.empty() && p.linkIsOurs)
    log::info("source_chosen", {{"name", volume_.name()},
                                {"source", store::sourceName(p.current->record.source)},
                                {"reason", "a valid certificate is in place"},
                                {"set", p.current->record.id}});
  if (!firstPass_ && p.current && !p.current->problem.empty())
    log::warn("certificate_unusable", {{"name", volume_.name()}, {"reason", p.current->problem}});

  const decide::Policy policy = decidePolicy();
  // Each step changes the facts or marks a source asked, so this ends well before
  // the bound; the bound keeps it so whatever a bug might do.
  const std::size_t maxSteps = 4 + 2 * issuers_.size();
  decide::Decision d;
  for (std::size_t step = 0; step < maxSteps; ++step) {
    refreshFacts(p, policy);
    d = decide::decide(p.facts, policy, now);
    report(d, p);
    if (d.action == decide::Action::Done) break;
    carryOut(d, p);
  }
  result.nextCheck = d.action == decide::Action::Done ? d.nextCheck : now + kRetryAfterError;

  if (!p.lastError.empty() && p.current && p.current->record.source == store::Source::SelfSigned)
    log::warn("fallback_self_signed", {{"name", volume_.name()}, {"error", p.lastError}});
  if (p.current) result.live = describe(p.current->record, p.current->parsed, p.current->problem);
  if (!result.healthy())
    log::error("no_valid_certificate", {{"name", volume_.name()},
                                        {"reason", p.current ? p.current->problem : "nothing could be put in place"}});
  bool reloadPending = reloadIfNeeded(p, result);
  reportFacts(p, policy, result);
  if (p.changed || firstPass_)
    log::info("renewal_scheduled", {{"name", volume_.name()}, {"next_check", formatTime(result.nextCheck)}});
  else
    log::debug("check_done", {{"name", volume_.name()}, {"next_check", formatTime(result.nextCheck)}});
  p.state.reloadPending = reloadPending;
  p.state.nextCheck = result.nextCheck;
  if (auto ok = state_.save(p.state); !ok) log::error("state_not_saved", {{"error", ok.error().message}});
  result.changed = p.changed;
  firstPass_ = false;
  return result;
}

}  // namespace sc::app
