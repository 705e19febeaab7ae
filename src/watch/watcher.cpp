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
    : fd_(other.fd_), dirWatch_(other.dirWatch_), setWatch_(other.setWatch_), name_(std::move(other.name_)) {
  other.fd_ = -1;
}

Watcher::~Watcher() {
  if (fd_ >= 0) ::close(fd_);
}

Result<bool> Watcher::watchLive(const std::filesystem::path& liveDir, const std::string& name) {
  name_ = name;
  if (dirWatch_ < 0) {
    dirWatch_ = ::inotify_add_watch(fd_, liveDir.c_str(), kChanges);
    if (dirWatch_ < 0) return failErrno("watch", liveDir.string());
  }
  // Follows the link: the watch is on the set folder that docker cp writes into.
  int wd = ::inotify_add_watch(fd_, (liveDir / name).c_str(), kChanges | IN_ONLYDIR);
  if (wd < 0 && errno != ENOENT && errno != ENOTDIR) return failErrno("watch", (liveDir / name).string());
  if (setWatch_ >= 0 && wd != setWatch_) ::inotify_rm_watch(fd_, setWatch_);
  bool fresh = wd >= 0 && wd != setWatch_;
  setWatch_ = wd;
  return fresh;
}

bool Watcher::drain() {
  alignas(inotify_event) char buf[8192];
  bool relevant = false;
  while (true) {
    ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n <= 0) break;
    for (char* p = buf; p < buf + n;) {
      auto* ev = reinterpret_cast<inotify_event*>(p);
      p += sizeof(inotify_event) + ev->len;
      std::string file = ev->len ? std::string(ev->name) : "";
      if (ev->mask & IN_IGNORED) continue;  // a watch we dropped, or a set folder tidied away
      if (ev->wd == dirWatch_ && file != name_) continue;  // other lineages, our own temporary links
      if (ev->wd != dirWatch_ && !file.empty() && file.front() == '.') continue;  // our temporary files
      relevant = true;
    }
  }
  return relevant;
}

}  // namespace sc::watch
