#pragma once
// Carries the schedule out: one thread per channel sends what is due, retries what
// failed (10 s, 30 s, 1 min, 5 min, 15 min, then hourly) and sleeps until the next
// thing falls due. Certificate work only hands over facts and never waits on it.
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "alert/message.h"
#include "alert/record_file.h"
#include "core/stop.h"

namespace sc::alert {

std::chrono::seconds deliveryBackoff(int failures);

class Center {
 public:
  Center(Policy policy, std::vector<std::unique_ptr<Channel>> channels, RecordFile file,
         const std::vector<std::string>& lineages, std::string host, const TimeSource& clock);
  ~Center();
  Center(const Center&) = delete;
  Center& operator=(const Center&) = delete;

  void start();
  void stop();  // waits for the senders; a transfer under way ends by the stop signal its channel watches
  // What a lineage's pass saw; the senders act on it at once.
  void update(const LineageFacts& facts);
  // A lineage no longer kept (discovery retired it): nothing more is said of it,
  // no reminder and no all-clear.
  void forget(const std::string& lineage);
  // Told of every delivery and failure (for /metrics); set before start().
  void onDelivery(std::function<void(const std::string& channel, bool delivered)> f) { onDelivery_ = std::move(f); }

 private:
  void runSender(Channel& channel);
  void save();

  Policy policy_;
  std::vector<std::unique_ptr<Channel>> channels_;
  RecordFile file_;
  std::string host_;
  const TimeSource& clock_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Record> records_;
  RetryTimes retryAt_;
  std::map<std::string, int> failures_;  // channel/record: deliveries failed in a row
  std::function<void(const std::string&, bool)> onDelivery_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace sc::alert
