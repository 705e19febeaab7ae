#include "app/supervisor.h"

#include "app/monitor.h"
#include "app/pass_pool.h"
#include "app/signal_thread.h"
#include "app/swarm_mode.h"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <optional>

#include "core/time_format.h"
#include "log/log.h"
#include "watch/watcher.h"

namespace sc::app {
namespace {

// How often a supervisor that waits for another one's lock tries again.
constexpr std::chrono::seconds kLockRetry{5};
// The longest single sleep, so that a clock that jumps is noticed.
constexpr std::chrono::milliseconds kMaxSleep{60 * 60 * 1000};

int millisUntil(TimePoint when, TimePoint now) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(when - now);
  return static_cast<int>(std::clamp(ms, std::chrono::milliseconds(0), kMaxSleep).count());
}

// Waits for the volume lock; false when told to stop meanwhile (before the
// signal thread runs: it starts only after privileges are dropped).
bool waitForLock(store::FileSystem& fs, const store::Path& root, std::optional<store::VolumeLock>& lock) {
  bool logged = false;
  while (true) {
    auto got = store::VolumeLock::tryAcquire(fs, root);
    if (got) {
      lock.emplace(std::move(*got));
      return true;
    }
    if (!logged) log::warn("waiting_for_lock", {{"state_dir", root.string()}, {"reason", got.error().message}});
    logged = true;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    timespec wait{std::chrono::duration_cast<std::chrono::seconds>(kLockRetry).count(), 0};
    int sig = ::sigtimedwait(&set, nullptr, &wait);
    if (sig == SIGTERM || sig == SIGINT) return false;
  }
}

}  // namespace

Supervisor::Supervisor(Runtime& runtime, const TimeSource& time) : rt_(runtime), time_(time) {}

namespace {

// One lineage as the supervisor schedules it.
struct Slot {
  LineageRuntime* lineage = nullptr;
  TimePoint nextCheck{};                // its next pass is due
  std::optional<TimePoint> settleAt;    // someone else changed live/<name>: a pass once quiet
  TimePoint firstChange{};
  bool forced = false;                  // SIGHUP
  bool running = false;
  bool changedWhileRunning = false;     // told apart from its own publish once the pass ended

  bool due(TimePoint now) const { return forced || now >= nextCheck || (settleAt && now >= *settleAt); }
  TimePoint wake() const { return settleAt ? std::min(*settleAt, nextCheck) : nextCheck; }
  // A burst of changes settles for kQuietPeriod, at most kMaxSettle from its first change.
  void noteChange(TimePoint now) {
    if (!settleAt) firstChange = now;
    settleAt = std::min(now + kQuietPeriod, firstChange + kMaxSettle);
  }
  // Our own publish (the link renamed, a new set folder) is no change: a pass only
  // follows what someone else did to live/<name>.
  bool changedByOthers() const {
    auto view = lineage->volume.inspect();
    return !view || view->link != store::LiveView::Link::Ours || !view->foreign.empty() || !view->missing.empty();
  }
};

}  // namespace

int Supervisor::run() {
  if (auto blocked = SignalThread::blockSignals(); !blocked) {
    log::error("startup_failed", {{"error", blocked.error().message}});
    return 1;
  }
  if (auto ok = rt_.prepareVolumes(); !ok) {
    log::error("startup_failed", {{"error", ok.error().message}});
    return 1;
  }
  std::optional<store::VolumeLock> lock;
  if (!waitForLock(rt_.fs, rt_.settings.stateDir, lock)) return 0;
  auto watcher = watch::Watcher::create();
  if (!watcher) {
    log::error("startup_failed", {{"error", watcher.error().message}});
    return 1;
  }
  const auto liveDir = rt_.settings.volume / "live";
  auto responder = rt_.bindResponder();
  auto monitor = Monitor::create(rt_, time_);
  if (!monitor) {
    log::error("startup_failed", {{"error", monitor.error().message}});
    return 1;
  }
  if (auto ok = rt_.dropPrivileges(); !ok) {
    log::error("startup_failed", {{"error", ok.error().message}});
    return 1;
  }
  auto signals = SignalThread::start(rt_.stop);
  if (!signals) {
    log::error("startup_failed", {{"error", signals.error().message}});
    return 1;
  }
  std::optional<SwarmCoordinator> swarm;
  auto stopping = [&] {
    if (swarm && swarm->leaseLost()) return 1;
    log::info("stopping", {{"signal", std::string(strsignal((*signals)->stopSignal()))}});
    return 0;
  };
  (*monitor)->start();
  if (responder) responder = rt_.startResponder();
  if (!responder)
    log::error("responder_failed", {{"error", responder.error().message},
                                    {"effect", "ACME validation over HTTP-01 cannot succeed until it listens"}});
  if (rt_.swarmMode()) {
    swarm.emplace(rt_, time_);
    auto outcome = swarm->begin();
    if (outcome == SwarmCoordinator::Outcome::Stop) return stopping();
    if (outcome == SwarmCoordinator::Outcome::Failed) return 1;
  }
  for (const auto& w : settingsWarnings(rt_.settings)) log::warn("settings_warning", {{"warning", w}});
  std::vector<Slot> slots;
  for (auto& l : rt_.lineages) {
    log::info("started", {{"name", l->name()},
                          {"names", sources::joinNames(l->spec.domains)},
                          {"volume", rt_.settings.volume.string()},
                          {"reload", l->reloader->describe()}});
    Slot slot;
    slot.lineage = l.get();
    slot.nextCheck = time_.now();
    slots.push_back(slot);
  }
  auto pool = PassPool::start(std::min(kConcurrentPasses, slots.size()), time_);
  if (!pool) {
    log::error("startup_failed", {{"error", pool.error().message}});
    return 1;
  }
  auto watchAgain = [&](Slot& slot) {
    auto fresh = watcher->watchLive(liveDir, slot.lineage->name());
    if (!fresh)
      log::warn("watch_failed", {{"name", slot.lineage->name()}, {"error", fresh.error().message}});
    else if (*fresh && !slot.settleAt && slot.changedByOthers())
      slot.noteChange(time_.now());  // a folder we only now watch: writes made before went unseen
  };
  for (auto& slot : slots) watchAgain(slot);

  while (true) {
    TimePoint now = time_.now();
    std::optional<TimePoint> wake;
    for (std::size_t i = 0; i < slots.size(); ++i) {
      Slot& slot = slots[i];
      if (slot.running) continue;
      if (slot.due(now)) {
        if (slot.forced) log::debug("check_forced", {{"name", slot.lineage->name()}, {"by", "SIGHUP"}});
        slot.forced = false;
        slot.settleAt.reset();
        slot.running = true;
        slot.changedWhileRunning = false;
        (*pool)->submit(i, *slot.lineage->lineage);
        continue;
      }
      wake = wake ? std::min(*wake, slot.wake()) : slot.wake();
    }
    pollfd fds[4] = {{rt_.stop.fd(), POLLIN, 0},
                     {(*signals)->hangupFd(), POLLIN, 0},
                     {watcher->fd(), POLLIN, 0},
                     {(*pool)->fd(), POLLIN, 0}};
    int n = ::poll(fds, 4, wake ? millisUntil(*wake, now) : static_cast<int>(kMaxSleep.count()));
    if (n < 0 && errno != EINTR) {
      log::error("poll_failed", {{"error", std::strerror(errno)}});
      return 1;
    }
    if (rt_.stop.requested()) {  // served before any SIGHUP that came with it
      pool->reset();             // the passes under way end at once and are waited for
      return stopping();
    }
    if (n <= 0) continue;
    now = time_.now();
    if ((fds[1].revents & POLLIN) && (*signals)->takeHangup())
      for (auto& slot : slots) slot.forced = true;
    if (fds[2].revents & POLLIN)
      for (const auto& name : watcher->drain())
        for (auto& slot : slots) {
          if (slot.lineage->name() != name) continue;
          if (slot.running)
            slot.changedWhileRunning = true;
          else if (slot.changedByOthers())
            slot.noteChange(now);
        }
    if (fds[3].revents & POLLIN)
      for (auto& [i, result] : (*pool)->takeFinished()) {
        Slot& slot = slots[i];
        slot.running = false;
        slot.nextCheck = result.nextCheck;
        (*monitor)->passEnded(*slot.lineage, result);
        if (swarm) swarm->afterPass();
        if (slot.changedWhileRunning && slot.changedByOthers()) slot.noteChange(now);
        watchAgain(slot);
      }
  }
}

}  // namespace sc::app
