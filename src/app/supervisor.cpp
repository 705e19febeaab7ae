#include "app/supervisor.h"

#include "app/discovery.h"
#include "app/monitor.h"
#include "app/pass_pool.h"
#include "app/settle.h"
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
  LineageRuntime* lineage = nullptr;    // none: a free slot (a retired lineage's)
  TimePoint nextCheck{};                // its next pass is due
  SettleTimer settle;                   // someone else changed live/<name>: a pass once quiet
  bool forced = false;                  // SIGHUP
  bool running = false;
  bool changedWhileRunning = false;     // told apart from its own publish once the pass ended
  // Discovery asked while its pass ran: done once the pass ended. Behind a pointer:
  // it is rare, and a spec in every slot of 10,000 would be 2.5 MiB kept for nothing.
  std::unique_ptr<CertificateSpec> replaceWith;
  bool retireWhenDone = false;

  bool due(TimePoint now) const {
    return forced || now >= nextCheck || (settle.settleAt() && now >= *settle.settleAt());
  }
  TimePoint wake() const { return settle.settleAt() ? std::min(*settle.settleAt(), nextCheck) : nextCheck; }
  void noteChange(TimePoint now, bool paced) { settle.noteChange(now, paced); }
  // Our own publish (the link renamed, a new set folder) is no change: a pass only
  // follows what someone else did to live/<name>.
  bool changedByOthers() const {
    auto view = lineage->volume.inspect();
    return !view || view->link != store::LiveView::Link::Ours || !view->foreign.empty() || !view->missing.empty();
  }
};

// What the start-up sequence acquires, and the event loop uses. Members are
// released in reverse order: the passes under way end first, the volume lock is
// given up last.
struct Process {
  std::optional<store::VolumeLock> lock;
  std::optional<watch::Watcher> watcher;
  Status responder;  // bound, then listening; an error is logged and lived with
  std::unique_ptr<Monitor> monitor;
  std::unique_ptr<SignalThread> signals;
  std::optional<SwarmCoordinator> swarm;
  std::vector<Slot> slots;
  std::unique_ptr<PassPool> pool;
  std::unique_ptr<Discovery> discovery;  // SIDECERT_DISCOVER: lineages come and go
};

int startupFailed(const Error& error) {
  log::error("startup_failed", {{"error", error.message}});
  return 1;
}

// Start-up, part one, while sidecert may still hold privileges and no other thread
// runs: the signals blocked (every thread started later inherits the mask), the
// volumes prepared and locked, inotify opened, the responder's and the metrics'
// ports bound. nullopt: go on; else the status run() exits with.
std::optional<int> acquireWhilePrivileged(Runtime& rt, const TimeSource& time, Process& p) {
  if (auto blocked = SignalThread::blockSignals(); !blocked) return startupFailed(blocked.error());
  if (auto ok = rt.prepareVolumes(); !ok) return startupFailed(ok.error());
  if (!waitForLock(rt.fs, rt.settings.stateDir, p.lock)) return 0;  // told to stop while waiting
  auto watcher = watch::Watcher::create([](std::string_view event, const watch::NoticeFields& fields) {
    log::Fields logged;  // a fallback the kernel's inotify limits forced
    for (const auto& [key, value] : fields) logged.emplace_back(key, value);
    log::warn(event, logged);
  });
  if (!watcher) return startupFailed(watcher.error());
  p.watcher.emplace(std::move(*watcher));
  p.responder = rt.bindResponder();
  auto monitor = Monitor::create(rt, time);
  if (!monitor) return startupFailed(monitor.error());
  p.monitor = std::move(*monitor);
  return std::nullopt;
}

// Start-up, part two: privileges dropped, and only then the first thread, the one
// that reads the signals. Capabilities belong to threads: none runs privileged.
std::optional<int> dropPrivilegesThenStartSignalThread(Runtime& rt, Process& p) {
  if (auto ok = rt.dropPrivileges(); !ok) return startupFailed(ok.error());
  auto signals = SignalThread::start(rt.stop);
  if (!signals) return startupFailed(signals.error());
  p.signals = std::move(*signals);
  return std::nullopt;
}

// The exit status once told to stop: 1 when swarm mode lost the lease, else 0.
int stopped(const Process& p) {
  if (p.swarm && p.swarm->leaseLost()) return 1;
  log::info("stopping", {{"signal", std::string(strsignal(p.signals->stopSignal()))}});
  return 0;
}

// Start-up, part three, unprivileged: the monitor's and the responder's threads,
// swarm mode's first lease, one slot per lineage, and the pool that runs passes.
std::optional<int> startServing(Runtime& rt, const TimeSource& time, Process& p) {
  p.monitor->start();
  if (p.responder) p.responder = rt.startResponder();
  if (!p.responder)
    log::error("responder_failed", {{"error", p.responder.error().message},
                                    {"effect", "ACME validation over HTTP-01 cannot succeed until it listens"}});
  if (rt.swarmMode()) {
    p.swarm.emplace(rt, time);
    auto outcome = p.swarm->begin();
    if (outcome == SwarmCoordinator::Outcome::Stop) return stopped(p);
    if (outcome == SwarmCoordinator::Outcome::Failed) return 1;
  }
  for (const auto& w : settingsWarnings(rt.settings)) log::warn("settings_warning", {{"warning", w}});
  for (auto& l : rt.lineages) {
    log::info("started", {{"name", l->name()},
                          {"names", sources::joinNames(l->spec.domains)},
                          {"volume", rt.settings.volume.string()},
                          {"reload", l->reloader->describe()}});
    Slot slot;
    slot.lineage = l.get();
    slot.nextCheck = time.now();
    p.slots.push_back(std::move(slot));
  }
  auto discovery = Discovery::start(rt);
  if (!discovery) return startupFailed(discovery.error());
  p.discovery = std::move(*discovery);
  auto pool = PassPool::start(p.discovery ? kConcurrentPasses : std::min(kConcurrentPasses, p.slots.size()), time);
  if (!pool) return startupFailed(pool.error());
  p.pool = std::move(*pool);
  return std::nullopt;
}

// Passes when they fall due, the volume changes or SIGHUP asks; one at a time per
// lineage, up to the pool's size at once. Ends when told to stop.
class EventLoop final : public LineageHost {
 public:
  EventLoop(Runtime& rt, const TimeSource& time, Process& p)
      : rt_(rt), time_(time), p_(p), liveDir_(rt.settings.volume / "live") {}

  int run() {
    for (auto& slot : p_.slots) watchAgain(slot);
    while (true) {
      TimePoint now = time_.now();
      if (p_.discovery && p_.discovery->wakeAt() && now >= *p_.discovery->wakeAt()) p_.discovery->onTimer(*this, now);
      std::optional<TimePoint> wake = submitDuePasses(now);
      if (p_.discovery && p_.discovery->wakeAt()) wake = std::min(wake.value_or(*p_.discovery->wakeAt()), *p_.discovery->wakeAt());
      pollfd fds[5] = {{rt_.stop.fd(), POLLIN, 0},
                       {p_.signals->hangupFd(), POLLIN, 0},
                       {p_.watcher->fd(), POLLIN, 0},
                       {p_.pool->fd(), POLLIN, 0},
                       {p_.discovery ? p_.discovery->fd() : -1, POLLIN, 0}};
      int n = ::poll(fds, 5, wake ? millisUntil(*wake, now) : static_cast<int>(kMaxSleep.count()));
      if (n < 0 && errno != EINTR) {
        log::error("poll_failed", {{"error", std::strerror(errno)}});
        return 1;
      }
      if (rt_.stop.requested()) {  // served before any SIGHUP that came with it
        p_.pool.reset();           // the passes under way end at once and are waited for
        return stopped(p_);
      }
      if (n <= 0) continue;
      now = time_.now();
      if ((fds[1].revents & POLLIN) && p_.signals->takeHangup())
        for (auto& slot : p_.slots) slot.forced = true;
      if (fds[2].revents & POLLIN) noteVolumeChanges(now);
      if (fds[3].revents & POLLIN) takeFinishedPasses(now);
      if (fds[4].revents & POLLIN) p_.discovery->onReading(*this, now);
    }
  }

  // Discovery: a new lineage gets a slot (a free one first), and its first pass now.
  void addLineage(const CertificateSpec& spec) override {
    auto made = app::addLineage(rt_, spec);
    if (made) {
      if (auto ok = (*made)->volume.prepare(); !ok) {
        removeLineage(rt_, *made);
        made = std::unexpected(ok.error());
      }
    }
    if (!made) {
      log::error("discovered_not_started", {{"name", spec.name}, {"from", spec.origin}, {"error", made.error().message}});
      return;
    }
    auto free = std::find_if(p_.slots.begin(), p_.slots.end(), [](const Slot& s) { return !s.lineage; });
    Slot& slot = free != p_.slots.end() ? *free : p_.slots.emplace_back();
    slot = Slot{};
    slot.lineage = *made;
    slot.nextCheck = time_.now();
    watchAgain(slot);
  }

  void replaceLineage(const CertificateSpec& spec) override {
    Slot* slot = slotNamed(spec.name);
    if (!slot) return addLineage(spec);
    if (slot->running) {
      slot->replaceWith = std::make_unique<CertificateSpec>(spec);
      return;
    }
    removeLineage(rt_, slot->lineage);
    slot->lineage = nullptr;
    addLineage(spec);
  }

  void retireLineage(const std::string& name) override {
    Slot* slot = slotNamed(name);
    if (slot && slot->running) {
      slot->retireWhenDone = true;
      return;
    }
    store::Volume volume(rt_.fs, rt_.settings.volume, rt_.settings.stateDir, name);
    auto withdrawn = (slot ? slot->lineage->volume : volume).withdrawLive();
    if (!withdrawn)
      log::warn("retire_incomplete", {{"name", name}, {"error", withdrawn.error().message}});
    else if (!*withdrawn)
      log::info("retired_kept_live", {{"name", name}, {"why", "live/" + name + " is not a set sidecert published"}});
    p_.monitor->lineageRetired(name);
    if (!slot) return;
    auto reloader = std::move(slot->lineage->reloader);
    bool swarm = slot->lineage->spec.reload.kind == ReloadSpec::Kind::Swarm;
    removeLineage(rt_, slot->lineage);  // its names leave the gateway views
    *slot = Slot{};
    // The gateway drops what it loaded for those names (nginx keeps its map until
    // told): they get the default set. The swarm's store keeps a retired set's
    // secrets until the gateway service's next rollout.
    if (swarm) return;
    reload::ReloadEvent event{name, (rt_.settings.volume / "live" / name).string(), "retired", std::nullopt};
    if (auto ok = reloader->reload(event); !ok)
      log::warn("reload_failed", {{"name", name}, {"error", ok.error().message}, {"after", "retirement"}});
    else
      log::info("reload_done", {{"name", name}, {"action", reloader->describe()}, {"after", "retirement"}});
  }

 private:
  // Hands each due lineage that is not running to the pool; returns when the
  // earliest of the others falls due.
  std::optional<TimePoint> submitDuePasses(TimePoint now) {
    std::optional<TimePoint> wake;
    for (std::size_t i = 0; i < p_.slots.size(); ++i) {
      Slot& slot = p_.slots[i];
      if (slot.running || !slot.lineage) continue;
      if (slot.due(now)) {
        if (slot.forced) log::debug("check_forced", {{"name", slot.lineage->name()}, {"by", "SIGHUP"}});
        slot.forced = false;
        slot.settle.passStarted();
        slot.running = true;
        slot.changedWhileRunning = false;
        p_.pool->submit(i, *slot.lineage->lineage);
        continue;
      }
      wake = wake ? std::min(*wake, slot.wake()) : slot.wake();
    }
    return wake;
  }

  // live/<name> changed: a pass once quiet, unless it was our own publish.
  void noteVolumeChanges(TimePoint now) {
    for (const auto& name : p_.watcher->drain())
      for (auto& slot : p_.slots) {
        if (!slot.lineage || slot.lineage->name() != name) continue;
        if (slot.running)
          slot.changedWhileRunning = true;
        else if (slot.changedByOthers())
          slot.noteChange(now, !p_.watcher->isPolled(name));  // a poll's tick tells no dropper's pace
      }
  }

  void takeFinishedPasses(TimePoint now) {
    auto finished = p_.pool->takeFinished();
    for (auto& [i, result] : finished) {
      Slot& slot = p_.slots[i];
      slot.running = false;
      slot.nextCheck = result.nextCheck;
      slot.lineage->transport.release();  // back to the pool (net/transport_pool.h)
      p_.monitor->passEnded(*slot.lineage, result);
      if (p_.swarm) p_.swarm->afterPass();
      if (slot.changedWhileRunning && slot.changedByOthers()) slot.noteChange(now, false);
      watchAgain(slot);
      if (slot.retireWhenDone) retireLineage(std::string(slot.lineage->name()));
      else if (auto spec = std::exchange(slot.replaceWith, nullptr)) replaceLineage(*spec);
    }
    if (!finished.empty() && std::none_of(p_.slots.begin(), p_.slots.end(), [](const Slot& s) { return s.running; }))
      rt_.transports.closeIdle();  // the burst is over: idle, sidecert holds no connection
  }

  Slot* slotNamed(const std::string& name) {
    for (auto& slot : p_.slots)
      if (slot.lineage && slot.lineage->name() == name) return &slot;
    return nullptr;
  }

  // A pass may have made live/<name> anew (or it did not exist before): watch it again.
  void watchAgain(Slot& slot) {
    auto fresh = p_.watcher->watchLive(liveDir_, slot.lineage->name());
    if (!fresh)
      log::warn("watch_failed", {{"name", slot.lineage->name()}, {"error", fresh.error().message}});
    else if (*fresh && !slot.settle.settleAt() && slot.changedByOthers())
      slot.noteChange(time_.now(), false);  // a folder we only now watch: writes made before went unseen
  }

  Runtime& rt_;
  const TimeSource& time_;
  Process& p_;
  const store::Path liveDir_;
};

}  // namespace

// Start-up in order (a security property: port 80 is bound before privileges are
// dropped, and no thread runs before they are), then the event loop.
int Supervisor::run() {
  Process process;
  if (auto status = acquireWhilePrivileged(rt_, time_, process)) return *status;
  if (auto status = dropPrivilegesThenStartSignalThread(rt_, process)) return *status;
  if (auto status = startServing(rt_, time_, process)) return *status;
  return EventLoop(rt_, time_, process).run();
}

}  // namespace sc::app
