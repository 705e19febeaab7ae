#pragma once
// Changes under live/ (a user's `docker cp`, a link replaced) as a readable fd for
// the supervisor's poll(), through inotify: no polling of the disk.
#include <filesystem>
#include <map>
#include <set>
#include <string>

#include "core/result.h"

namespace sc::watch {

class Watcher {
 public:
  static Result<Watcher> create();
  Watcher(Watcher&& other) noexcept;
  Watcher(const Watcher&) = delete;
  ~Watcher();

  // Watches live/ for live/<name> itself, and the folder live/<name> leads to;
  // one watcher serves every lineage.
  // Cheap to call after every pass: a folder already watched keeps its watch.
  // True when the set folder is newly watched: whatever was written into it
  // before the watch began (during a slow reload, say) raised no event.
  Result<bool> watchLive(const std::filesystem::path& liveDir, const std::string& name);
  int fd() const { return fd_; }
  // Reads what is queued: the lineages with a change worth a look.
  std::set<std::string> drain();

 private:
  explicit Watcher(int fd) : fd_(fd) {}
  int fd_;
  int dirWatch_ = -1;
  std::map<std::string, int> setWatches_;  // by lineage name; -1 while live/<name> is no folder
};

}  // namespace sc::watch
