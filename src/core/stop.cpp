#include "core/stop.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>

namespace sc {

Result<StopSignal> StopSignal::create() {
  int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) return failErrno("create", "the stop eventfd");
  return StopSignal(fd);
}

StopSignal::StopSignal(StopSignal&& other) noexcept : fd_(other.fd_), requested_(other.requested()) { other.fd_ = -1; }

StopSignal::~StopSignal() {
  if (fd_ >= 0) ::close(fd_);
}

void StopSignal::request() {
  requested_.store(true, std::memory_order_release);
  std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(fd_, &one, sizeof one);
}

bool StopSignal::sleepFor(std::chrono::milliseconds d) const {
  auto end = std::chrono::steady_clock::now() + d;
  while (!requested()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
    if (left.count() <= 0) return true;
    pollfd p{fd_, POLLIN, 0};
    ::poll(&p, 1, static_cast<int>(std::min<std::int64_t>(left.count(), 60'000)));
  }
  return false;
}

}  // namespace sc
