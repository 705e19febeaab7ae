#pragma once
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "core/clock.h"
#include "store/fs.h"

namespace sc::store {

// What the supervisor remembers between passes and restarts, per lineage.
// A source that failed is not asked again before `nextAttempt`: kept across
// restarts, so a container in a restart loop cannot burn a CA's rate limits.
struct Backoff {
  int failures = 0;
  TimePoint nextAttempt;
  std::string lastError;
};

struct LineageState {
  std::optional<TimePoint> nextCheck;
  bool reloadPending = false;  // the live set changed and the gateway was not told yet
  std::map<std::string, Backoff> backoff;  // by source id (a CA's directory URL)
};

class StateStore {
 public:
  StateStore(FileSystem& fs, Path root, std::string name);
  // A missing or unreadable state file is an empty state: it only holds hints.
  LineageState load();
  Status save(const LineageState& state);

 private:
  Path file() const { return root_ / "sidecert" / ("state-" + name_ + ".json"); }
  FileSystem& fs_;
  Path root_;
  std::string name_;
};

// One sidecert at a time per volume (two replicas, or `once` beside `run`):
// an flock on sidecert/lock, released by the kernel when the holder dies.
class VolumeLock {
 public:
  // The holder's PID is written into the lock file, for `revoke` to signal it.
  static Result<VolumeLock> tryAcquire(const Path& root);
  static std::optional<int> holder(const Path& root);
  VolumeLock(VolumeLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  VolumeLock& operator=(VolumeLock&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  VolumeLock(const VolumeLock&) = delete;
  ~VolumeLock();

 private:
  explicit VolumeLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace sc::store
