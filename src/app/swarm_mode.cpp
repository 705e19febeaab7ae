#include "app/swarm_mode.h"

#include "core/duration.h"
#include "core/time_format.h"
#include "log/log.h"
#include "swarm/publisher.h"

namespace sc::app {
namespace {

// How often a sidecert without the lease, or without the swarm, asks again.
constexpr std::chrono::seconds kAskAgain{5};
// A task that gave its service the sealing key waits this long to be replaced.
constexpr std::chrono::seconds kReplaceWait{120};

}  // namespace

SwarmCoordinator::SwarmCoordinator(Runtime& rt, const TimeSource& time)
    : rt_(rt), time_(time), session_(*rt.swarm) {}

SwarmCoordinator::~SwarmCoordinator() {
  if (keeper_.joinable()) keeper_.join();  // it ends with the stop request
}

SwarmCoordinator::Outcome SwarmCoordinator::begin() {
  auto started = session_.start();
  if (!started) {
    log::error("swarm_start_failed", {{"error", started.error().message}});
    return Outcome::Failed;
  }
  if (*started == swarm::Session::Start::Restarting) {
    if (!rt_.stop.sleepFor(kReplaceWait)) return Outcome::Stop;
    log::error("swarm_start_failed", {{"error", "swarm did not replace this task after its service got the sealing key"}});
    return Outcome::Failed;
  }
  log::info("swarm_joined", {{"service", session_.identity().serviceName}, {"task", session_.identity().taskId}});
  if (!waitForLease()) return Outcome::Stop;
  restoreAccounts();
  restoreSets();
  keeper_ = std::thread([this] { keepLease(); });
  return Outcome::Ready;
}

bool SwarmCoordinator::waitForLease() {
  std::string logged;
  while (true) {
    std::string reason;
    auto held = session_.holdLease(reason);
    if (held && *held) return true;
    if (!held) reason = held.error().message;
    if (reason != logged) log::warn("swarm_lease_waiting", {{"reason", reason}, {"ask_again_in", formatDuration(kAskAgain)}});
    logged = reason;
    if (!rt_.stop.sleepFor(kAskAgain)) return false;
  }
}

void SwarmCoordinator::keepLease() {
  while (rt_.stop.sleepFor(swarm::kLeaseRenewEvery)) {
    std::string reason;
    auto held = session_.holdLease(reason);
    if (held && *held) {
      repointServices();
      continue;
    }
    if (!held) reason = held.error().message;
    if (session_.mayAct()) {
      log::warn("swarm_lease_not_extended", {{"reason", reason}, {"lease_ends", formatTime(session_.leaseEnds())}});
      continue;
    }
    log::error("swarm_lease_lost", {{"reason", reason}, {"effect", "stopping; swarm starts this task again"}});
    lost_ = true;
    rt_.stop.request();
    return;
  }
}

// A gateway whose spec lost its set (the stack deployed again) gets it back
// within one lease period, with no pass and no order.
void SwarmCoordinator::repointServices() {
  for (auto& l : rt_.lineages) {
    auto* publisher = dynamic_cast<swarm::SwarmPublisher*>(l->reloader.get());
    if (!publisher) continue;
    if (auto ok = publisher->repoint(l->name()); !ok)
      log::warn("swarm_repoint_failed", {{"name", l->name()}, {"error", ok.error().message}});
  }
}

void SwarmCoordinator::restoreAccounts() {
  for (const auto& ca : rt_.settings.acmeDirectories) {
    if (rt_.accounts.key(ca)) continue;
    auto copy = session_.store().account(ca);
    if (!copy) {
      log::warn("swarm_account_unreadable", {{"ca", ca}, {"error", copy.error().message}});
      continue;
    }
    if (!*copy) continue;
    auto saved = rt_.accounts.saveKey(ca, (*copy)->key);
    if (saved && !(*copy)->url.empty()) saved = rt_.accounts.saveAccountUrl(ca, (*copy)->url);
    if (!saved) {
      log::error("swarm_account_not_restored", {{"ca", ca}, {"error", saved.error().message}});
      continue;
    }
    accountsStored_.insert(ca);
    log::info("swarm_account_restored", {{"ca", ca}, {"account", (*copy)->url}});
  }
}

void SwarmCoordinator::restoreSets() {
  for (auto& l : rt_.lineages) {
    auto stored = session_.store().newest(l->name());
    if (!stored)
      log::warn("swarm_set_unreadable", {{"name", l->name()}, {"error", stored.error().message}});
    else if (*stored)
      l->lineage->restore((*stored)->files, (*stored)->source, time_.now());
    // whatever the volume holds now, the swarm's service is made to serve it
    l->lineage->reloadOnNextPass();
  }
}

void SwarmCoordinator::afterPass() {
  for (const auto& ca : rt_.settings.acmeDirectories) {
    if (accountsStored_.count(ca)) continue;
    auto key = rt_.accounts.key(ca);
    auto url = rt_.accounts.accountUrl(ca);
    if (!key || !url) continue;  // not made yet
    if (auto ok = session_.store().putAccount(ca, {*key, *url}); !ok) {
      log::warn("swarm_account_not_stored", {{"ca", ca}, {"error", ok.error().message}});
      continue;
    }
    accountsStored_.insert(ca);
    log::info("swarm_account_stored", {{"ca", ca}});
  }
}

}  // namespace sc::app
