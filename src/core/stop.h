#pragma once
// The one stop request of a process: SIGTERM sets it, and every sleep, poll and
// transfer that could hold sidecert watches its descriptor, so that the process
// ends within a second wherever it is. Once set it stays set.
#include <atomic>

#include "core/result.h"

namespace sc {

class StopSignal {
 public:
  static Result<StopSignal> create();
  StopSignal(StopSignal&& other) noexcept;
  StopSignal(const StopSignal&) = delete;
  StopSignal& operator=(const StopSignal&) = delete;
  ~StopSignal();

  void request();  // async-signal-safe: one atomic store and one write
  bool requested() const { return requested_.load(std::memory_order_acquire); }
  // Readable once a stop was requested (an eventfd, never drained): poll() on it.
  int fd() const { return fd_; }
  // Waits up to `d`; false when a stop was requested before or meanwhile.
  bool sleepFor(std::chrono::milliseconds d) const;

 private:
  explicit StopSignal(int fd) : fd_(fd) {}
  int fd_ = -1;
  std::atomic<bool> requested_{false};
};

}  // namespace sc
