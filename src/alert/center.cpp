#include "alert/center.h"

#include <algorithm>
#include <array>

#include "core/duration.h"
#include "log/log.h"

namespace sc::alert {

std::chrono::seconds deliveryBackoff(int failures) {
  static constexpr std::array<int, 6> kSeconds = {10, 30, 60, 300, 900, 3600};
  return std::chrono::seconds(kSeconds[std::clamp<std::size_t>(failures, 1, kSeconds.size()) - 1]);
}

Center::Center(Policy policy, std::vector<std::unique_ptr<Channel>> channels, RecordFile file,
               const std::vector<std::string>& lineages, std::string host, const TimeSource& clock)
    : policy_(policy), channels_(std::move(channels)), file_(std::move(file)), host_(std::move(host)), clock_(clock) {
  records_ = file_.load();
  auto before = records_.size();
  keepOnly(records_, lineages);
  if (records_.size() != before) save();
}

Center::~Center() { stop(); }

void Center::start() {
  for (auto& c : channels_) threads_.emplace_back([this, &c] { runSender(*c); });
}

void Center::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void Center::update(const LineageFacts& facts) {
  {
    std::lock_guard lock(mutex_);
    merge(records_, facts.name, observe(facts, policy_, clock_.now()), clock_.now());
    save();
  }
  changed_.notify_all();
}

void Center::forget(const std::string& lineage) {
  std::lock_guard lock(mutex_);
  auto before = records_.size();
  std::erase_if(records_, [&](const Record& r) { return r.lineage == lineage; });
  if (records_.size() != before) save();
}

void Center::save() {
  if (auto ok = file_.save(records_); !ok) log::error("alert_state_not_saved", {{"error", ok.error().message}});
}

void Center::runSender(Channel& channel) {
  const std::vector<std::string> mine = {channel.name()};
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    TimePoint now = clock_.now();
    auto due = dueNotices(records_, mine, policy_, retryAt_, now);
    if (due.empty()) {
      auto next = nextDue(records_, mine, policy_, retryAt_);
      // the wall clock may jump: never sleep more than an hour on it
      auto wait = next ? std::clamp(*next - now, std::chrono::milliseconds(0), std::chrono::milliseconds(3600 * 1000))
                       : std::chrono::milliseconds(3600 * 1000);
      changed_.wait_for(lock, wait);
      continue;
    }
    const Notice notice = due.front();
    Message message = messageFor(notice, host_, now);
    std::string key = channel.name() + "/" + recordKey(notice.record);
    lock.unlock();
    auto sent = channel.send(message);
    lock.lock();
    if (stopping_ && !sent) break;
    if (onDelivery_) onDelivery_(channel.name(), sent.has_value());
    if (sent) {
      delivered(records_, notice, clock_.now());
      retryAt_[channel.name()].erase(recordKey(notice.record));
      failures_.erase(key);
      save();
      log::info("alert_sent", {{"channel", channel.name()},
                               {"name", notice.record.lineage},
                               {"condition", conditionName(notice.record.condition)},
                               {"notice", noticeKindName(notice.kind)}});
    } else {
      int n = ++failures_[key];
      auto wait = deliveryBackoff(n);
      retryAt_[channel.name()][recordKey(notice.record)] = clock_.now() + wait;
      log::warn("alert_not_delivered", {{"channel", channel.name()},
                                        {"name", notice.record.lineage},
                                        {"condition", conditionName(notice.record.condition)},
                                        {"notice", noticeKindName(notice.kind)},
                                        {"error", sent.error().message},
                                        {"retry_in", formatDuration(wait)}});
    }
  }
}

}  // namespace sc::alert
