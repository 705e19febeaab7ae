#include "app/supervisor.h"

#include "app/signal_thread.h"

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

int Supervisor::run() {
  if (auto blocked = SignalThread::blockSignals(); !blocked) {
    log::error("startup_failed", {{"error", blocked.error().message}});
    return 1;
  }
  if (auto ok = rt_.volume.prepare(); !ok) {
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
  if (auto ok = rt_.dropPrivileges(); !ok) {
    log::error("startup_failed", {{"error", ok.error().message}});
    return 1;
  }
  auto signals = SignalThread::start(rt_.stop);
  if (!signals) {
    log::error("startup_failed", {{"error", signals.error().message}});
    return 1;
  }
  auto stopping = [&] {
    log::info("stopping", {{"signal", std::string(strsignal((*signals)->stopSignal()))}});
    return 0;
  };
  if (responder) responder = rt_.startResponder();
  if (!responder)
    log::error("responder_failed", {{"error", responder.error().message},
                                    {"effect", "ACME validation over HTTP-01 cannot succeed until it listens"}});
  log::info("started", {{"name", rt_.settings.name},
                        {"names", sources::joinNames(rt_.settings.domains)},
                        {"volume", rt_.settings.volume.string()},
                        {"reload", rt_.reloader->describe()}});

  PassResult last = rt_.lineage->pass(time_.now());
  if (rt_.stop.requested()) return stopping();
  // A burst of changes settles for kQuietPeriod, at most kMaxSettle from its first change.
  std::optional<TimePoint> settleAt;
  TimePoint firstChange{};
  auto noteChange = [&](TimePoint now) {
    if (!settleAt) firstChange = now;
    settleAt = std::min(now + kQuietPeriod, firstChange + kMaxSettle);
  };
  // Our own publish (the link renamed, a new set folder watched) is no change: a
  // pass only follows what someone else did to live/.
  auto changedByOthers = [&] {
    auto view = rt_.volume.inspect();
    return !view || view->link != store::LiveView::Link::Ours || !view->foreign.empty() || !view->missing.empty();
  };
  while (true) {
    auto fresh = watcher->watchLive(liveDir, rt_.settings.name);
    if (!fresh) {
      log::warn("watch_failed", {{"error", fresh.error().message}});
    } else if (*fresh && !settleAt && changedByOthers()) {
      // Look once more at a folder we only now watch: writes made before the watch went unseen.
      noteChange(time_.now());
    }
    TimePoint wake = settleAt ? std::min(*settleAt, last.nextCheck) : last.nextCheck;
    pollfd fds[3] = {{rt_.stop.fd(), POLLIN, 0}, {(*signals)->hangupFd(), POLLIN, 0}, {watcher->fd(), POLLIN, 0}};
    int n = ::poll(fds, 3, millisUntil(wake, time_.now()));
    if (n < 0 && errno != EINTR) {
      log::error("poll_failed", {{"error", std::strerror(errno)}});
      return 1;
    }
    if (rt_.stop.requested()) return stopping();  // served before any SIGHUP that came with it
    bool forced = n > 0 && (fds[1].revents & POLLIN) && (*signals)->takeHangup();
    TimePoint now = time_.now();
    if (n > 0 && (fds[2].revents & POLLIN) && watcher->drain() && changedByOthers()) noteChange(now);
    if (forced || now >= last.nextCheck || (settleAt && now >= *settleAt)) {
      if (forced) log::debug("check_forced", {{"by", "SIGHUP"}});
      settleAt.reset();
      last = rt_.lineage->pass(now);
      if (rt_.stop.requested()) return stopping();
    }
  }
}

}  // namespace sc::app
