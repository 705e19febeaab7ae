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

namespace sc::app {
namespace {

int rank(store::Source s) { return static_cast<int>(s); }  // lower is preferred

std::vector<std::string> appended(std::vector<std::string> a, const std::vector<std::string>& b) {
  for (const auto& x : b)
    if (std::find(a.begin(), a.end(), x) == a.end()) a.push_back(x);
  return a;
}

renew::Validity validity(const sources::ParsedSet& set) { return {set.leaf.notBefore(), set.leaf.notAfter()}; }

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

bool Lineage::publish(const store::CertFiles& files, store::Source source, const std::string& reason, TimePoint now) {
  auto record = volume_.publish(files, source, now);
  if (!record) {
    log::error("publish_failed", {{"name", volume_.name()},
                                  {"source", store::sourceName(source)},
                                  {"error", record.error().message},
                                  {"kept", "the previous set stays in place"}});
    return false;
  }
  log::info("source_chosen", {{"name", volume_.name()},
                              {"source", store::sourceName(source)},
                              {"reason", reason},
                              {"set", record->id}});
  return true;
}

bool Lineage::judgePending(const std::optional<store::SetRecord>& current, TimePoint now, PassResult& result) {
  auto dropped = volume_.pending();
  if (!dropped) {
    log::error("user_files_unreadable", {{"name", volume_.name()}, {"error", dropped.error().message}});
    return false;
  }
  if (dropped->empty()) return false;
  if (!lastDropAt_) lastDropAt_ = now;  // dropped before a restart: the grace starts again
  std::optional<store::CertFiles> currentFiles;
  if (current)
    if (auto files = volume_.readSet(current->id)) currentFiles = *files;
  auto verdict = sources::judgeUserFiles(*dropped, currentFiles, policy_.requiredNames, now);
  using Kind = sources::UserVerdict::Kind;

  if (verdict.kind == Kind::Incomplete && now < *lastDropAt_ + policy_.userGrace) {
    if (!incompleteLogged_)
      log::info("user_cert_incomplete", {{"name", volume_.name()},
                                         {"reason", verdict.reason},
                                         {"waiting_for", verdict.awaited},
                                         {"until", formatTime(*lastDropAt_ + policy_.userGrace)}});
    incompleteLogged_ = true;
    result.nextCheck = std::min(result.nextCheck, *lastDropAt_ + policy_.userGrace);
    return false;
  }
  if (verdict.kind == Kind::Accept) {
    const auto& leaf = verdict.set->leaf;
    if (!publish(verdict.files, store::Source::User, "a valid user certificate was dropped in", now)) return false;
    auto aside = volume_.movePendingAside("accepted", now);
    log::info("user_cert_accepted", {{"name", volume_.name()},
                                     {"names", sources::joinNames(leaf.dnsNames())},
                                     {"serial", leaf.serialHex()},
                                     {"issuer", leaf.issuer()},
                                     {"not_after", formatTime(leaf.notAfter())},
                                     {"originals", aside ? *aside : aside.error().message}});
    lastDropAt_.reset();
    return true;
  }
  std::string reason = verdict.reason;
  if (verdict.kind == Kind::Incomplete)
    reason += ", and no new " + verdict.awaited + " arrived within " + formatDuration(policy_.userGrace);
  auto aside = volume_.movePendingAside("refused", now);
  log::warn("user_cert_refused", {{"name", volume_.name()},
                                  {"reason", reason},
                                  {"aside", aside ? *aside : "not moved: " + aside.error().message}});
  lastDropAt_.reset();
  return false;
}

std::optional<Lineage::Current> Lineage::loadCurrent(const std::optional<store::SetRecord>& record, TimePoint now) {
  if (!record) return std::nullopt;
  Current c{*record, std::nullopt, ""};
  auto files = volume_.readSet(record->id);
  if (!files) {
    c.problem = files.error().message;
    return c;
  }
  auto parsed = sources::parseFiles(*files);
  if (!parsed) {
    c.problem = parsed.error().message;
    return c;
  }
  // Our own sets must cover every name we issue for; a user's, the configured ones.
  const auto& names = record->source == store::Source::User ? policy_.requiredNames : policy_.names;
  auto skew = record->source == store::Source::User ? std::chrono::seconds(0) : sources::kIssuedClockSkew;
  c.problem = volume_.isRevoked(record->id) ? "the certificate was revoked"
                                            : sources::unusableReason(*parsed, names, now, skew);
  c.parsed = std::move(*parsed);
  return c;
}

std::optional<std::chrono::seconds> Lineage::marginFor(const Current& current) {
  if (!policy_.renewBefore) return std::nullopt;  // the lifetime rule: never longer than the lifetime
  auto v = validity(*current.parsed);
  auto lifetime = std::chrono::duration_cast<std::chrono::seconds>(v.notAfter - v.notBefore);
  if (*policy_.renewBefore < lifetime) return policy_.renewBefore;
  // A margin at or past the lifetime would make every new certificate due at once.
  if (marginWarnedFor_ != current.record.id)
    log::warn("renew_before_too_long", {{"name", volume_.name()},
                                        {"renew_before", formatDuration(*policy_.renewBefore)},
                                        {"lifetime", formatDuration(lifetime)},
                                        {"used", formatDuration(lifetime / 3)},
                                        {"advice", "set SIDECERT_RENEW_BEFORE below the certificate's lifetime"}});
  marginWarnedFor_ = current.record.id;
  return lifetime / 3;
}

TimePoint Lineage::renewalTimeOf(const Current& current, TimePoint now, store::LineageState& state) {
  TimePoint renewAt = renew::renewalTime(validity(*current.parsed), marginFor(current));
  if (current.record.source != store::Source::Acme || policy_.renewBefore) return renewAt;  // a set margin is used as given
  auto& ari = state.ari;
  if (!ari || ari->setId != current.record.id || now >= ari->askAgainAt) {
    // Asked only when the CA's last Retry-After says so, remembered across restarts.
    ari = store::AriMemory{current.record.id, std::nullopt, now + kAriDefaultRetry};
    if (auto files = volume_.readSet(current.record.id))
      for (auto* issuer : issuers_) {
        if (issuer->kind() != store::Source::Acme) continue;
        auto hint = issuer->renewalHint(*files, now);
        if (!hint) continue;
        auto wait = hint->askAgainAt ? std::chrono::duration_cast<std::chrono::seconds>(*hint->askAgainAt - now)
                                     : kAriDefaultRetry;
        ari->renewAt = hint->renewAt;
        ari->askAgainAt = now + std::clamp(wait, kAriMinRetry, kAriMaxRetry);
        log::debug("renewal_info", {{"ca", issuer->id()}, {"renew_at", formatTime(hint->renewAt)},
                                    {"ask_again_at", formatTime(ari->askAgainAt)}});
        break;
      }
  }
  return ari->renewAt ? *ari->renewAt : renewAt;  // ARI's window wins where the CA offers it
}

namespace {

// Counts and remembers a pass's orders in the lineage's state, saved at once: an
// order exists at the CA only after it was counted on disk.
class StateJournal final : public sources::OrderJournal {
 public:
  StateJournal(store::StateStore& store, store::LineageState& state, std::string ca, const renew::OrderBudget& budget,
               std::function<TimePoint()> now)
      : store_(store), state_(state), ca_(std::move(ca)), budget_(budget), now_(std::move(now)) {}

  Status beforeOrder() override {
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
};

// Sources that place no orders at a CA have no budget, only the failure backoff.
const renew::OrderBudget kNoBudget{std::numeric_limits<int>::max(), std::chrono::seconds(1)};

}  // namespace

const renew::OrderBudget& Lineage::budgetFor(const sources::CertSource& issuer) const {
  return issuer.kind() == store::Source::Acme ? policy_.orderBudget : kNoBudget;
}

std::optional<renew::OrderGate> Lineage::deferred(sources::CertSource& issuer, const store::LineageState& state,
                                                  TimePoint now) {
  auto ledger = state.ledgers.find(issuer.id());
  if (ledger == state.ledgers.end()) return std::nullopt;
  auto gate = renew::orderGate(ledger->second, budgetFor(issuer), now);
  if (gate.allowed) return std::nullopt;
  auto& logged = deferralLogged_[issuer.id()];
  if (logged != gate.notBefore)  // once per wait, not once per pass
    log::warn("order_deferred", {{"name", volume_.name()},
                                 {"source", issuer.id()},
                                 {"reason", gate.why},
                                 {"next_order_at", formatTime(gate.notBefore)}});
  logged = gate.notBefore;
  return gate;
}

Result<sources::Obtained> Lineage::attempt(sources::CertSource& issuer, const sources::Request& request,
                                           TimePoint now, const std::function<TimePoint()>& attemptTime,
                                           TimePoint& end) {
  Result<sources::Obtained> obtained = [&]() -> Result<sources::Obtained> {
    try {
      return issuer.obtain(request, now);
    } catch (const std::exception& e) {  // a bug or a reply nobody foresaw: a failed attempt, never a crash
      return failAs(ErrorKind::Protocol, std::string("unexpected failure: ") + e.what());
    }
  }();
  end = attemptTime();
  if (!obtained) return obtained;
  // The check every set passes, whoever made it: nothing unusable reaches the gateway.
  auto parsed = sources::parseFiles(obtained->files);
  std::string problem = parsed ? sources::unusableReason(*parsed, policy_.names, end, sources::kIssuedClockSkew)
                               : parsed.error().message;
  if (problem.empty()) return obtained;
  auto aside = volume_.keepAside(obtained->files, "unusable", end);
  log::error("cert_unusable", {{"name", volume_.name()},
                               {"source", issuer.id()},
                               {"reason", problem},
                               {"aside", aside ? *aside : "not kept: " + aside.error().message}});
  return failAs(ErrorKind::Unusable, "the certificate from " + issuer.id() + " is unusable: " + problem);
}

bool Lineage::obtainBetter(std::optional<Current>& current, TimePoint now, store::LineageState& state) {
  bool usable = current && current->problem.empty();
  bool due = usable && now >= renewalTimeOf(*current, now, state);
  if (usable && current->record.source == store::Source::User) {
    if (due && (!lastExpiryWarning_ || now - *lastExpiryWarning_ >= kExpiryWarningEvery)) {
      log::warn("user_cert_expiring", {{"name", volume_.name()},
                                       {"not_after", formatTime(current->parsed->leaf.notAfter())},
                                       {"days_left", daysLeft(*current->parsed, now)},
                                       {"advice", "drop in a renewed certificate; sidecert falls back to ACME once it expires"}});
      lastExpiryWarning_ = now;
    }
    return false;  // a valid user certificate is never replaced
  }
  std::string why = !current ? "no certificate in the volume yet"
                    : !usable ? current->record.source == store::Source::User
                                    ? "the user certificate is no longer usable: " + current->problem
                                    : "the certificate in place is not usable: " + current->problem
                              : "renewal due";
  if (!usable && !firstPass_) log::warn("certificate_unusable", {{"name", volume_.name()}, {"reason", why}});

  sources::Request request;
  request.names = policy_.names;
  request.keyType = policy_.keyType;
  if (usable) request.current = volume_.readSet(current->record.id).value_or(store::CertFiles{});
  request.resume = state.pendingOrder;
  // Nothing usable: the fallback first, since it needs no network, then better sources.
  std::vector<sources::CertSource*> order = issuers_;
  if (!usable && order.size() > 1) order.insert(order.begin(), order.back());

  bool changed = false;
  std::string lastError;
  int inPlace = usable ? rank(current->record.source) : std::numeric_limits<int>::max();
  for (auto* issuer : order) {
    bool better = rank(issuer->kind()) < inPlace;
    bool renewSame = due && rank(issuer->kind()) == inPlace;
    if (!better && !renewSame) continue;
    if (deferred(*issuer, state, now)) continue;
    TimePoint end = now;
    auto started = clock_.now();
    // The pass's `now`, moved on by what the attempt has taken so far.
    auto attemptTime = [&] { return now + std::max(TimePoint::duration::zero(), clock_.now() - started); };
    StateJournal journal(state_, state, issuer->id(),
                         budgetFor(*issuer), attemptTime);
    request.journal = &journal;
    auto obtained = attempt(*issuer, request, now, attemptTime, end);
    if (!obtained && obtained.error().is(ErrorKind::Cancelled)) {
      log::info("attempt_stopped", {{"name", volume_.name()}, {"source", issuer->id()}});
      break;
    }
    if (!obtained && obtained.error().is(ErrorKind::Deferred)) {
      deferred(*issuer, state, end);  // the gate held the order back at the last moment: said as before a pass
      continue;
    }
    auto& ledger = state.ledgers[issuer->id()];
    if (!obtained) {
      renew::recordFailure(ledger, end, obtained.error().retryAfter, obtained.error().message);
      lastError = obtained.error().message;
      log::warn("issue_failed", {{"name", volume_.name()},
                                 {"source", issuer->id()},
                                 {"error", obtained.error().message},
                                 {"failures", ledger.failures},
                                 {"retry_at", formatTime(*ledger.retryAt)}});
      continue;
    }
    renew::recordSuccess(ledger);
    log::info("cert_issued", {{"name", volume_.name()},
                              {"source", store::sourceName(issuer->kind())},
                              {"names", sources::joinNames(policy_.names)},
                              {"serial", obtained->serial},
                              {"issuer", obtained->issuer},
                              {"not_after", formatTime(obtained->notAfter)}});
    if (!publish(obtained->files, issuer->kind(), why, now)) break;
    changed = true;
    inPlace = rank(issuer->kind());  // from here on, only a better source may replace it
    auto latest = volume_.latestSet();
    current = loadCurrent(latest ? *latest : std::nullopt, now);
    due = false;
    why = "a better source than " + std::string(store::sourceName(issuer->kind())) + " became available";
  }
  if (!lastError.empty() && current && current->record.source == store::Source::SelfSigned)
    log::warn("fallback_self_signed", {{"name", volume_.name()}, {"error", lastError}});
  return changed;
}

void Lineage::planNext(const std::optional<Current>& current, TimePoint now, store::LineageState& state,
                       PassResult& result) {
  auto interval = policy_.checkInterval;
  if (!current || !current->parsed || !current->problem.empty()) {
    result.nextCheck = std::min(result.nextCheck, now + kRetryAfterError);
    return;
  }
  auto v = validity(*current->parsed);
  TimePoint renewAt = renewalTimeOf(*current, now, state);
  if (current->record.source == store::Source::User && now >= renewAt)
    renewAt = std::min(v.notAfter, now + std::min(interval, kExpiryWarningEvery));
  else if (now >= renewAt)
    // This pass tried and the set is still due (the CA failed, or the margin is
    // longer than the lifetime): try again later, not in a tight loop.
    renewAt = now + kRetryAfterError;
  result.nextCheck = std::min(result.nextCheck, renew::nextCheck(now, renewAt, interval));
  if (state.ari && state.ari->setId == current->record.id && state.ari->renewAt)  // a CA that offers ARI
    result.nextCheck = std::min(result.nextCheck, std::max(now, state.ari->askAgainAt));
  // A better source that is waiting out its backoff or budget: come back when it may be asked.
  for (auto* issuer : issuers_) {
    if (rank(issuer->kind()) >= rank(current->record.source) && !(now >= renewAt)) continue;
    auto ledger = state.ledgers.find(issuer->id());
    if (ledger == state.ledgers.end()) continue;
    auto gate = renew::orderGate(ledger->second, budgetFor(*issuer), now);
    if (!gate.allowed) result.nextCheck = std::min(result.nextCheck, std::max(now, gate.notBefore));
  }
}

bool Lineage::reloadIfNeeded(bool changed, bool pending, const std::optional<Current>& current, TimePoint now,
                             PassResult& result) {
  if (!changed && !pending) return false;
  reload::ReloadEvent event{volume_.name(), (volume_.root() / volume_.liveRelative()).string(),
                            current ? store::sourceName(current->record.source) : "none"};
  auto ok = reloader_.reload(event);
  if (ok && reloader_.describe() == "none") {
    log::debug("reload_skipped", {{"name", volume_.name()}, {"reason", "no reload action is configured"}});
  } else if (ok) {
    log::info("reload_done", {{"name", volume_.name()}, {"action", reloader_.describe()}});
  } else if (ok.error().is(ErrorKind::Cancelled)) {  // SIGTERM: the next start reloads
    log::info("reload_stopped", {{"name", volume_.name()}, {"action", reloader_.describe()}});
  } else {
    log::error("reload_failed", {{"name", volume_.name()},
                                 {"action", reloader_.describe()},
                                 {"error", ok.error().message},
                                 {"retry_in", formatDuration(kReloadRetry)}});
    result.nextCheck = std::min(result.nextCheck, now + kReloadRetry);
  }
  return !ok;
}

PassResult Lineage::pass(TimePoint now) {
  PassResult result;
  result.nextCheck = now + policy_.checkInterval;
  auto view = volume_.inspect();
  if (!view) {
    log::error("volume_unreadable", {{"name", volume_.name()}, {"error", view.error().message}});
    result.nextCheck = now + kRetryAfterError;
    return result;
  }
  if (!view->foreign.empty()) takeUserFiles(*view, now);

  std::optional<store::SetRecord> record;
  bool ours = view->link == store::LiveView::Link::Ours;
  if (ours) {
    record = view->set;
    auto damaged = appended(view->foreign, view->missing);
    if (!damaged.empty()) {
      if (auto ok = volume_.restoreFiles(*record, damaged); !ok)
        log::error("restore_failed", {{"name", volume_.name()}, {"error", ok.error().message}});
      else if (!view->missing.empty() && view->foreign.empty())
        log::warn("live_files_restored", {{"name", volume_.name()}, {"files", sources::joinNames(view->missing)}});
    }
  } else if (auto latest = volume_.latestSet()) {
    record = *latest;
  }

  bool changed = judgePending(record, now, result);
  if (changed) {
    auto latest = volume_.latestSet();
    record = latest ? *latest : std::nullopt;
  } else if (!ours && record) {
    // live/<name> is missing or someone else's: put our last set back.
    if (auto files = volume_.readSet(record->id))
      changed = publish(*files, record->source, "live/" + volume_.name() + " was not our set; restored it", now);
  }

  auto current = loadCurrent(record, now);
  if (firstPass_ && current && current->problem.empty() && !changed)
    log::info("source_chosen", {{"name", volume_.name()},
                                {"source", store::sourceName(current->record.source)},
                                {"reason", "a valid certificate is in place"},
                                {"set", current->record.id}});
  auto state = state_.load();
  if (obtainBetter(current, now, state)) changed = true;

  if (current) result.live = describe(current->record, current->parsed, current->problem);
  if (!result.healthy())
    log::error("no_valid_certificate", {{"name", volume_.name()},
                                        {"reason", current ? current->problem : "nothing could be put in place"}});
  planNext(current, now, state, result);
  bool reloadPending = reloadIfNeeded(changed, state.reloadPending, current, now, result);
  if (changed || firstPass_)
    log::info("renewal_scheduled", {{"name", volume_.name()}, {"next_check", formatTime(result.nextCheck)}});
  else
    log::debug("check_done", {{"name", volume_.name()}, {"next_check", formatTime(result.nextCheck)}});
  state.reloadPending = reloadPending;
  state.nextCheck = result.nextCheck;
  if (auto ok = state_.save(state); !ok) log::error("state_not_saved", {{"error", ok.error().message}});
  result.changed = changed;
  firstPass_ = false;
  return result;
}

}  // namespace sc::app
