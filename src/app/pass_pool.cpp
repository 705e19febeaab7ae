#include "app/pass_pool.h"

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

void PassPool::work() {
  while (true) {
    std::pair<std::size_t, Lineage*> job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return closing_ || !queue_.empty(); });
      if (closing_) return;
      job = queue_.front();
      queue_.pop_front();
    }
    PassResult result = job.second->pass(time_.now());
    {
      std::lock_guard lock(mutex_);
      finished_.emplace_back(job.first, std::move(result));
    }
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(done_, &one, sizeof one);
  }
}

}  // namespace sc::app
