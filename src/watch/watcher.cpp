#include "watch/watcher.h"

#include <sys/inotify.h>
#include <unistd.h>

namespace sc::watch {
namespace {

constexpr uint32_t kChanges = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_ATTRIB |
                              IN_DELETE_SELF | IN_MOVE_SELF;

}  // namespace

Result<Watcher> Watcher::create() {
  int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) return failErrno("inotify_init", "for live/");
  return Watcher(fd);
}

Watcher::Watcher(Watcher&& other) noexcept
    : fd_(other.fd_), dirWatch_(other.dirWatch_), setWatches_(std::move(other.setWatches_)) {
  other.fd_ = -1;
}

Watcher::~Watcher() {
  if (fd_ >= 0) ::close(fd_);
}

Result<bool> Watcher::watchLive(const std::filesystem::path& liveDir, const std::string& name) {
  int& setWatch = setWatches_.try_emplace(name, -1).first->second;
  if (dirWatch_ < 0) {
    dirWatch_ = ::inotify_add_watch(fd_, liveDir.c_str(), kChanges);
    if (dirWatch_ < 0) return failErrno("watch", liveDir.string());
  }
  // Follows the link: the watch is on the set folder that docker cp writes into.
  int wd = ::inotify_add_watch(fd_, (liveDir / name).c_str(), kChanges | IN_ONLYDIR);
  if (wd < 0 && errno != ENOENT && errno != ENOTDIR) return failErrno("watch", (liveDir / name).string());
  if (setWatch >= 0 && wd != setWatch) ::inotify_rm_watch(fd_, setWatch);
  bool fresh = wd >= 0 && wd != setWatch;
  setWatch = wd;
  return fresh;
}

std::set<std::string> Watcher::drain() {
  alignas(inotify_event) char buf[8192];
  std::set<std::string> changed;
  while (true) {
    ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n <= 0) break;
    for (char* p = buf; p < buf + n;) {
      auto* ev = reinterpret_cast<inotify_event*>(p);
      p += sizeof(inotify_event) + ev->len;
      std::string file = ev->len ? std::string(ev->name) : "";
      if (ev->mask & IN_IGNORED) continue;  // a watch we dropped, or a set folder tidied away
      if (ev->wd == dirWatch_) {
        if (setWatches_.count(file)) changed.insert(file);  // not other folders, nor our temporary links
        continue;
      }
      if (!file.empty() && file.front() == '.') continue;  // our temporary files
      for (const auto& [name, wd] : setWatches_)
        if (wd == ev->wd) changed.insert(name);
    }
  }
  return changed;
}

}  // namespace sc::watch
