#include "app/pass_pool.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>

namespace sc::app {

Result<std::unique_ptr<PassPool>> PassPool::start(std::size_t workers, const TimeSource& time) {
  int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) return failErrno("eventfd", "for finished passes");
  std::unique_ptr<PassPool> pool(new PassPool(fd, time));
  for (std::size_t i = 0; i < workers; ++i) pool->threads_.emplace_back([p = pool.get()] { p->work(); });
  return pool;
}

PassPool::~PassPool() {
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
    queue_.clear();
  }
  wake_.notify_all();
  for (auto& t : threads_) t.join();
  ::close(done_);
}

void PassPool::submit(std::size_t slot, Lineage& lineage) {
  {
    std::lock_guard lock(mutex_);
    queue_.emplace_back(slot, &lineage);
  }
  wake_.notify_one();
}

std::vector<std::pair<std::size_t, PassResult>> PassPool::takeFinished() {
  std::uint64_t count = 0;
  [[maybe_unused]] auto n = ::read(done_, &count, sizeof count);  // empty: nothing was pending
  std::lock_guard lock(mutex_);
  return std::exchange(finished_, {});
}

// A burst of passes (10,000 lineages at start, each pass's keys, sets and the
// gateway views rebuilt) leaves freed memory that glibc's arenas keep: handed
// back once the pool is idle, 10,000 idle lineages hold 9 MiB less.
void PassPool::giveBackFreedMemory() {
#ifdef __GLIBC__
  ::malloc_trim(0);
#endif
}

void PassPool::work() {
  while (true) {
    std::pair<std::size_t, Lineage*> job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return closing_ || !queue_.empty(); });
      if (closing_) return;
      job = queue_.front();
      queue_.pop_front();
      ++running_;
    }
    PassResult result = job.second->pass(time_.now());
    bool lastOfBurst = false;
    {
      std::lock_guard lock(mutex_);
      finished_.emplace_back(job.first, std::move(result));
      lastOfBurst = --running_ == 0 && queue_.empty();
    }
    if (lastOfBurst) giveBackFreedMemory();
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(done_, &one, sizeof one);
  }
}

}  // namespace sc::app
