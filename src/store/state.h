#pragma once
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "renew/order_budget.h"
#include "store/fs.h"

namespace sc::store {

// An order that exists at a CA and has not ended: what resuming it after a crash
// needs (RFC 8555 7.1.3), instead of placing another.
struct PendingOrder {
  std::string ca;  // the source id (directory URL)
  std::string url;
  std::vector<std::string> names;
  std::string keyPem;  // the certificate key its CSR carries (or will)
};

// What the CA's renewalInfo said of one set, until it may be asked again.
struct AriMemory {
  std::string setId;
  std::optional<TimePoint> renewAt;  // none: the CA gave no usable window
  TimePoint askAgainAt;
};

// What the supervisor remembers between passes and restarts, per lineage: kept
// across restarts, so that a container in a restart loop cannot storm a CA.
struct LineageState {
  std::optional<TimePoint> nextCheck;
  bool reloadPending = false;  // the live set changed and the gateway was not told yet
  std::map<std::string, renew::OrderLedger> ledgers;  // by source id (a CA's directory URL)
  std::optional<PendingOrder> pendingOrder;
  std::optional<AriMemory> ari;
  std::optional<TimePoint> lastExpiryWarning;  // an expiring user certificate is warned of once a day
  std::optional<TimePoint> lastIssuance;       // a CA last issued a certificate for this lineage
  int reloadFailures = 0;                      // the gateway reload failed this many times in a row
  std::string lastReloadError;
};

// Writes `file` whole or not at all: a new file beside it, fsynced, renamed over it.
Status replaceFile(FileSystem& fs, const Path& file, const std::string& data, const std::string& what);

class StateStore {
 public:
  // stateDir: SIDECERT_STATE_DIR; the file is state-<name>.json in it.
  StateStore(FileSystem& fs, Path stateDir, std::string name);
  // A missing or unreadable state file is an empty state: it only holds hints.
  LineageState load();
  Status save(const LineageState& state);

 private:
  Path file() const { return root_ / ("state-" + name_ + ".json"); }
  FileSystem& fs_;
  Path root_;
  std::string name_;
};

// One sidecert at a time per state folder (two replicas, or `once` beside `run`):
// an flock on <state dir>/lock, released by the kernel when the holder dies.
class VolumeLock {
 public:
  // The holder's PID is written into the lock file, for `revoke` to signal it.
  static Result<VolumeLock> tryAcquire(FileSystem& fs, const Path& stateDir);
  static std::optional<int> holder(FileSystem& fs, const Path& stateDir);
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
