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

#include "app/lineage_pass.h"

namespace sc::app {
namespace {

std::vector<std::string> appended(std::vector<std::string> a, const std::vector<std::string>& b) {
  for (const auto& x : b)
    if (std::find(a.begin(), a.end(), x) == a.end()) a.push_back(x);
  return a;
}

}  // namespace

std::optional<LiveStatus> describe(const store::SetRecord& record, const std::optional<sources::ParsedSet>& parsed,
                                   const std::string& problem) {
  LiveStatus s;
  s.source = store::sourceName(record.source);
  s.problem = problem;
  if (parsed) {
    s.names = parsed->leaf.names();
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
  auto aside = userDrops().moveLiveAside(view, {store::kCombinedFile}, "ignored", now);
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
      auto aside = userDrops().moveLiveAside(view, view.foreign, "refused", now);
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
    if (auto ok = userDrops().takeIntoPending(file, bytes, now, !keepOriginals); !ok) {
      log::error("user_files_not_taken", {{"name", volume_.name()}, {"file", file}, {"error", ok.error().message}});
      return;
    }
  }
  if (keepOriginals)
    if (auto aside = userDrops().moveLiveAside(view, {}, "replaced", now); !aside)
      log::error("user_link_not_moved", {{"name", volume_.name()}, {"error", aside.error().message}});
  std::string files;
  for (const auto& f : view.foreign) files += (files.empty() ? "" : ",") + f;
  log::info("user_files_received", {{"name", volume_.name()}, {"files", files}});
  lastDropAt_ = now;
  incompleteLogged_ = false;
}


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
  if (afterPublish_) afterPublish_();
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
  return revocationMarks().isRevoked(record.id) ? "the certificate was revoked"
                                           : sources::unusableReason(parsed, names, now, skew);
}

std::optional<Lineage::LoadedSet> Lineage::loadHeld(TimePoint now) {
  auto reserve = heldSet().held();
  if (!reserve) {
    log::warn("held_set_unreadable", {{"name", volume_.name()}, {"error", reserve.error().message}});
    return std::nullopt;
  }
  if (!*reserve) return std::nullopt;
  auto& [source, files] = **reserve;
  LoadedSet h{{"held", source}, files, std::nullopt, ""};
  judge(h, now);
  if (!h.problem.empty()) {  // expired in reserve, or for names no longer configured
    log::info("held_set_dropped", {{"name", volume_.name()}, {"reason", h.problem}});
    if (auto ok = heldSet().release(); !ok)
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
  auto dropped = userDrops().pending();
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
    auto retryAt = decide::retryAfterFailedPass(lastNotAfter_, p.now);
    log::error("reload_failed", {{"name", volume_.name()},
                                 {"action", reloader_.describe()},
                                 {"error", ok.error().message},
                                 {"retry_at", formatTime(retryAt)}});
    result.nextCheck = std::min(result.nextCheck, retryAt);
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

Lineage::~Lineage() {
  for (const auto& [source, pace] : paces_) pace->forget(volume_.name());
}

void Lineage::setAccountPace(const std::string& sourceId, renew::AccountPace& pace, TimePoint now) {
  pace.enrol(volume_.name(), now);
  paces_[sourceId] = &pace;
}

PassResult Lineage::pass(TimePoint now) {
  const TimePoint clockAtStart = clock_.now();
  PassResult result;
  auto view = volume_.inspect();
  if (!view) {
    log::error("volume_unreadable", {{"name", volume_.name()}, {"error", view.error().message}});
    result.nextCheck = decide::retryAfterFailedPass(lastNotAfter_, now);
    return result;
  }
  setAsideForeignCombined(*view, now);
  if (!view->foreign.empty()) takeUserFiles(*view, now);

  Pass p;
  p.now = now;
  p.clockAtStart = clockAtStart;
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
  if (p.current && p.current->parsed) lastNotAfter_ = p.current->parsed->leaf.notAfter();
  result.nextCheck = d.action == decide::Action::Done ? d.nextCheck : decide::retryAfterFailedPass(lastNotAfter_, now);
  result.atRisk = d.atRisk;

  if (!p.lastError.empty() && p.current && p.current->record.source == store::Source::SelfSigned)
    log::warn("fallback_self_signed", {{"name", volume_.name()}, {"error", p.lastError}});
  if (p.current) result.live = describe(p.current->record, p.current->parsed, p.current->problem);
  if (!result.healthy())
    log::error("no_valid_certificate", {{"name", volume_.name()},
                                        {"reason", p.current ? p.current->problem : "nothing could be put in place"}});
  bool reloadPending = reloadIfNeeded(p, result);
  tellPaces(d, p);
  reportFacts(p, policy, result);
  if (p.changed || firstPass_)
    log::info("renewal_scheduled", {{"name", volume_.name()}, {"next_check", formatTime(result.nextCheck)}});
  else
    log::debug("check_done", {{"name", volume_.name()}, {"next_check", formatTime(result.nextCheck)}});
  p.state.reloadPending = reloadPending;
  p.state.nextCheck = result.nextCheck;
  if (auto ok = state_.save(p.state); !ok) log::error("state_not_saved", {{"error", ok.error().message}});
  result.changed = p.changed;
  if (firstPass_ && afterFirstPass_) afterFirstPass_();
  firstPass_ = false;
  return result;
}

}  // namespace sc::app