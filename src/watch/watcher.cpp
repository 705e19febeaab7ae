#include "watch/watcher.h"

#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

namespace sc::watch {
namespace {

constexpr uint32_t kChanges = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_ATTRIB |
                              IN_DELETE_SELF | IN_MOVE_SELF;

// What a person raises to end the fallback: the kernel's settings, as they read
// now: fs.inotify's, and the user namespace's own (a container's may be lower).
std::string sysctlValue(const char* name, const char* perNamespace) {
  auto read = [](const std::string& key, const std::string& path) {
    std::ifstream in(path);
    std::string value;
    return in >> value ? key + "=" + value : key;
  };
  return read(std::string("fs.inotify.") + name, std::string("/proc/sys/fs/inotify/") + name) + ", " +
         read(std::string("user.") + perNamespace, std::string("/proc/sys/user/") + perNamespace);
}

// Out of a kernel resource (limit or memory): polling stands in. Anything else
// (a path that is not ours to watch) is an error for the caller.
bool outOfResources(int error) { return error == ENOSPC || error == ENOMEM || error == EMFILE || error == ENFILE; }

Status addToEpoll(int epoll, int fd) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  if (::epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &ev) < 0) return failErrno("epoll_ctl", "for live/");
  return {};
}

}  // namespace

Result<Watcher> Watcher::create(Notice notice) {
  int epoll = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll < 0) return failErrno("epoll_create", "for live/");
  int timer = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (timer < 0) {
    auto failed = failErrno("timerfd_create", "for live/");
    ::close(epoll);
    return failed;
  }
  int inotify = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  const int initError = errno;
  if (inotify < 0 && !outOfResources(initError)) {
    auto failed = failErrno("inotify_init", "for live/");
    ::close(timer);
    ::close(epoll);
    return failed;
  }
  Watcher w(epoll, inotify, timer, std::move(notice));  // closes them all if what follows fails
  if (inotify < 0)
    w.tell("watch_unavailable", {{"error", std::strerror(initError)},
                                 {"limit", sysctlValue("max_user_instances", "max_inotify_instances")},
                                 {"effect", "every lineage's live/<name> is looked at every " +
                                                std::to_string(kPollInterval.count()) + " s instead"}});
  w.dirPolled_ = inotify < 0;
  if (inotify >= 0)
    if (auto ok = addToEpoll(epoll, inotify); !ok) return std::unexpected(ok.error());
  if (auto ok = addToEpoll(epoll, timer); !ok) return std::unexpected(ok.error());
  return w;
}

Watcher::Watcher(Watcher&& other) noexcept
    : epoll_(other.epoll_),
      inotify_(other.inotify_),
      timer_(other.timer_),
      dirWatch_(other.dirWatch_),
      dirPolled_(other.dirPolled_),
      setWatches_(std::move(other.setWatches_)),
      namesByWatch_(std::move(other.namesByWatch_)),
      polled_(std::move(other.polled_)),
      notice_(std::move(other.notice_)),
      limitLogged_(other.limitLogged_) {
  other.epoll_ = other.inotify_ = other.timer_ = -1;
}

Watcher::~Watcher() {
  for (int fd : {epoll_, inotify_, timer_})
    if (fd >= 0) ::close(fd);
}

Result<bool> Watcher::watchLive(const std::filesystem::path& liveDir, const std::string& name) {
  int& setWatch = setWatches_.try_emplace(name, -1).first->second;
  if (dirPolled_) return fallBackToPolling(name, 0);
  if (dirWatch_ < 0) {
    dirWatch_ = ::inotify_add_watch(inotify_, liveDir.c_str(), kChanges);
    if (dirWatch_ < 0 && !outOfResources(errno)) return failErrno("watch", liveDir.string());
    if (dirWatch_ < 0) {
      dirPolled_ = true;  // a link replaced in live/ would go unseen: every lineage is polled
      return fallBackToPolling(name, errno);
    }
  }
  // Follows the link: the watch is on the set folder that docker cp writes into.
  int wd = ::inotify_add_watch(inotify_, (liveDir / name).c_str(), kChanges | IN_ONLYDIR);
  if (wd < 0 && outOfResources(errno)) return fallBackToPolling(name, errno);
  if (wd < 0 && errno != ENOENT && errno != ENOTDIR) return failErrno("watch", (liveDir / name).string());
  if (setWatch != wd) {
    if (setWatch >= 0) {
      auto& names = namesByWatch_[setWatch];
      names.erase(name);
      if (names.empty()) {
        namesByWatch_.erase(setWatch);
        ::inotify_rm_watch(inotify_, setWatch);
      }
    }
    if (wd >= 0) namesByWatch_[wd].insert(name);
  }
  bool wasPolled = wd >= 0 && polled_.erase(name) > 0;  // watched again: a watch was freed
  if (wasPolled && polled_.empty()) armTimer(false);
  bool fresh = (wd >= 0 && wd != setWatch) || wasPolled;
  setWatch = wd;
  return fresh;
}

bool Watcher::fallBackToPolling(const std::string& name, int error) {
  if (!limitLogged_ && error != 0) {
    limitLogged_ = true;
    tell("watch_limit_reached",
              {{"name", name}, {"error", std::strerror(error)}, {"limit", sysctlValue("max_user_watches", "max_inotify_watches")},
               {"effect", "lineages without a watch are looked at every " + std::to_string(kPollInterval.count()) +
                              " s instead; raise the limit to watch them all"}});
  }
  bool fresh = polled_.insert(name).second;
  if (fresh && polled_.size() == 1) armTimer(true);
  return fresh;
}

void Watcher::armTimer(bool on) {
  itimerspec every{};  // all zero: disarmed
  if (on) every.it_interval.tv_sec = every.it_value.tv_sec = kPollInterval.count();
  ::timerfd_settime(timer_, 0, &every, nullptr);  // cannot fail with a valid fd and these values
}

std::set<std::string> Watcher::drain() {
  std::set<std::string> changed;
  if (inotify_ >= 0) readInotify(changed);
  uint64_t ticks = 0;
  if (::read(timer_, &ticks, sizeof ticks) == sizeof ticks && ticks > 0) changed.insert(polled_.begin(), polled_.end());
  return changed;
}

void Watcher::readInotify(std::set<std::string>& changed) {
  alignas(inotify_event) char buf[8192];
  while (true) {
    ssize_t n = ::read(inotify_, buf, sizeof buf);
    if (n <= 0) break;
    for (char* p = buf; p < buf + n;) {
      auto* ev = reinterpret_cast<inotify_event*>(p);
      p += sizeof(inotify_event) + ev->len;
      std::string file = ev->len ? std::string(ev->name) : "";
      if (ev->mask & IN_Q_OVERFLOW) {  // events were lost: every lineage gets a look
        tell("watch_overflow", {{"limit", "fs.inotify.max_queued_events"},
                                     {"effect", "every lineage's live/<name> is looked at once"}});
        for (const auto& entry : setWatches_) changed.insert(entry.first);
        continue;
      }
      if (ev->mask & IN_IGNORED) continue;  // a watch we dropped, or a set folder tidied away
      if (ev->wd == dirWatch_) {
        if (setWatches_.count(file)) changed.insert(file);  // not other folders, nor our temporary links
        continue;
      }
      if (!file.empty() && file.front() == '.') continue;  // our temporary files
      if (auto it = namesByWatch_.find(ev->wd); it != namesByWatch_.end()) changed.insert(it->second.begin(), it->second.end());
    }
  }
}

}  // namespace sc::watch
