#include "net/transport_pool.h"

namespace sc::net {

Result<std::unique_ptr<CurlTransport>> TransportPool::borrow() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      auto t = std::move(idle_.back());
      idle_.pop_back();
      return t;
    }
  }
  return CurlTransport::create(options_);
}

void TransportPool::giveBack(std::unique_ptr<CurlTransport> transport) {
  if (!transport) return;
  transport->setDeadline(std::nullopt);
  std::unique_ptr<CurlTransport> closing;  // closed outside the lock
  std::lock_guard lock(mutex_);
  if (idle_.size() < keep_) idle_.push_back(std::move(transport));
  else closing = std::move(transport);
}

void TransportPool::closeIdle() {
  std::vector<std::unique_ptr<CurlTransport>> closing;
  std::lock_guard lock(mutex_);
  closing.swap(idle_);
}

std::size_t TransportPool::idle() const {
  std::lock_guard lock(mutex_);
  return idle_.size();
}

}  // namespace sc::net
