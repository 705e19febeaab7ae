#pragma once
// Changes under live/ (a user's `docker cp`, a link replaced) as a readable fd for
// the supervisor's poll(), through inotify: no polling of the disk while the
// kernel's limits allow. Where they do not (fs.inotify.max_user_instances reached:
// no inotify at all; max_user_watches reached: no watch for some lineages; the
// event queue overflowed: events lost), the log says so once and the lineages left
// unwatched are reported every kPollInterval instead, so that no change is missed.
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace sc::watch {

// Well inside the 5 s in which a user's set is picked up (CONTRACT.md).
inline constexpr std::chrono::seconds kPollInterval{2};

// A fallback taken, for the log (watch/ sits below log/): an event name
// (watch_unavailable, watch_limit_reached, watch_overflow) and its fields.
using NoticeFields = std::vector<std::pair<std::string, std::string>>;
using Notice = std::function<void(std::string_view event, const NoticeFields& fields)>;

class Watcher {
 public:
  static Result<Watcher> create(Notice notice = {});
  Watcher(Watcher&& other) noexcept;
  Watcher(const Watcher&) = delete;
  ~Watcher();

  // Watches live/ for live/<name> itself, and the folder live/<name> leads to;
  // one watcher serves every lineage.
  // Cheap to call after every pass: a folder already watched keeps its watch.
  // True when the set folder is newly watched, or newly polled: whatever was
  // written into it before (during a slow reload, say) raised no event.
  Result<bool> watchLive(const std::filesystem::path& liveDir, const std::string& name);
  int fd() const { return epoll_; }
  // Reads what is queued: the lineages with a change worth a look (every polled
  // one when the poll interval has passed; every one after an overflow).
  std::set<std::string> drain();
  // Lineages looked at every kPollInterval, as no inotify watch serves them.
  std::size_t polled() const { return polled_.size(); }
  bool isPolled(const std::string& name) const { return polled_.count(name) > 0; }

 private:
  Watcher(int epoll, int inotify, int timer, Notice notice)
      : epoll_(epoll), inotify_(inotify), timer_(timer), notice_(std::move(notice)) {}
  void tell(std::string_view event, const NoticeFields& fields) const {
    if (notice_) notice_(event, fields);
  }
  // The set folder's watch could not be made for want of kernel resources.
  bool fallBackToPolling(const std::string& name, int error);
  void readInotify(std::set<std::string>& changed);
  void armTimer(bool on);
  int epoll_;    // what the supervisor polls: the inotify fd and the timer
  int inotify_;  // -1: none could be had; every lineage is polled
  int timer_;    // fires every kPollInterval while some lineage is polled
  int dirWatch_ = -1;
  bool dirPolled_ = false;  // live/ itself is not watched: every lineage is polled
  std::map<std::string, int> setWatches_;           // by lineage name; -1 while none
  std::map<int, std::set<std::string>> namesByWatch_;  // the same, by watch
  std::set<std::string> polled_;
  Notice notice_;
  bool limitLogged_ = false;
};

}  // namespace sc::watch
