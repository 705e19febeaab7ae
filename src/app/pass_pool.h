#pragma once
// Passes of different lineages at once, on a few threads: one lineage's slow CA or
// slow reload holds one thread, never the others' passes. A lineage is never in
// two passes at once: the supervisor submits it again only after it finished.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "app/lineage.h"
#include "core/clock.h"
#include "core/result.h"

namespace sc::app {

class PassPool {
 public:
  // `workers` threads; finished passes make fd() readable.
  static Result<std::unique_ptr<PassPool>> start(std::size_t workers, const TimeSource& time);
  ~PassPool();  // lets the passes under way end (a stop ends them quickly), takes no new one

  void submit(std::size_t slot, Lineage& lineage);
  int fd() const { return done_; }
  std::vector<std::pair<std::size_t, PassResult>> takeFinished();

 private:
  PassPool(int doneFd, const TimeSource& time) : done_(doneFd), time_(time) {}
  void work();
  static void giveBackFreedMemory();

  int done_;
  const TimeSource& time_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool closing_ = false;
  std::deque<std::pair<std::size_t, Lineage*>> queue_;
  std::size_t running_ = 0;  // passes under way
  std::vector<std::pair<std::size_t, PassResult>> finished_;
  std::vector<std::thread> threads_;
};

// At most this many passes at once: orders at a CA, reloads, writes. Enough that a
// hundred lineages issue in seconds, few enough to stay a good citizen of the CA.
inline constexpr std::size_t kConcurrentPasses = 4;

}  // namespace sc::app
