#include "alert/schedule.h"

#include <algorithm>

namespace sc::alert {
namespace {

bool firing(const Record& r, TimePoint now) { return now >= r.since + r.latest.fireAfter; }

std::optional<TimePoint> retryTime(const RetryTimes& retryAt, const std::string& channel, const Record& r) {
  auto c = retryAt.find(channel);
  if (c == retryAt.end()) return std::nullopt;
  auto t = c->second.find(recordKey(r));
  if (t == c->second.end()) return std::nullopt;
  return t->second;
}

// The notice a channel is owed for a record, and from when.
std::optional<std::pair<NoticeKind, TimePoint>> owed(const Record& r, const std::string& channel,
                                                     const Policy& policy) {
  auto told = r.notified.find(channel);
  if (!r.active) {
    if (told == r.notified.end()) return std::nullopt;
    return std::pair{NoticeKind::Clear, r.clearedAt.value_or(r.since)};
  }
  if (told == r.notified.end()) return std::pair{NoticeKind::Start, r.since + r.latest.fireAfter};
  return std::pair{NoticeKind::Reminder, told->second + policy.remind};
}

}  // namespace

const char* noticeKindName(NoticeKind k) {
  switch (k) {
    case NoticeKind::Start: return "start";
    case NoticeKind::Reminder: return "reminder";
    case NoticeKind::Clear: return "clear";
    case NoticeKind::Test: return "test";
  }
  return "unknown";
}

std::string recordKey(const Record& r) { return r.lineage + "/" + conditionName(r.condition); }

void merge(std::vector<Record>& records, const std::string& lineage, const std::vector<Observation>& seen,
           TimePoint now) {
  for (const auto& o : seen) {
    auto it = std::find_if(records.begin(), records.end(),
                           [&](const Record& r) { return r.lineage == lineage && r.condition == o.condition; });
    if (it == records.end()) {
      records.push_back(Record{lineage, o.condition, std::min(o.since.value_or(now), now), o, true, std::nullopt, {}});
      continue;
    }
    if (!it->active && it->notified.empty()) it->since = std::min(o.since.value_or(now), now);
    // A fallback over a CA's set is told at once; the passes after it, which see
    // only the fallback, must not push that back to the threshold.
    auto fireAfter = std::min(it->latest.fireAfter, o.fireAfter);
    it->latest = o;
    it->latest.fireAfter = fireAfter;
    it->active = true;  // back before its clear reached everyone: a flap, not a new start
    it->clearedAt.reset();
  }
  std::erase_if(records, [&](Record& r) {
    bool gone = r.lineage == lineage &&
                std::none_of(seen.begin(), seen.end(), [&](const Observation& o) { return o.condition == r.condition; });
    if (!gone) return false;
    if (r.notified.empty()) return true;  // nobody was told it began: nobody is told it ended
    if (r.active) r.clearedAt = now;
    r.active = false;
    return false;
  });
}

void keepOnly(std::vector<Record>& records, const std::vector<std::string>& lineages) {
  std::erase_if(records, [&](const Record& r) {
    return std::find(lineages.begin(), lineages.end(), r.lineage) == lineages.end();
  });
}

std::vector<Notice> dueNotices(const std::vector<Record>& records, const std::vector<std::string>& channels,
                               const Policy& policy, const RetryTimes& retryAt, TimePoint now) {
  std::vector<Notice> out;
  for (const auto& r : records)
    for (const auto& channel : channels) {
      auto o = owed(r, channel, policy);
      if (!o || (o->first != NoticeKind::Clear && !firing(r, now)) || o->second > now) continue;
      if (auto retry = retryTime(retryAt, channel, r); retry && *retry > now) continue;
      out.push_back({o->first, channel, r});
    }
  return out;
}

std::optional<TimePoint> nextDue(const std::vector<Record>& records, const std::vector<std::string>& channels,
                                 const Policy& policy, const RetryTimes& retryAt) {
  std::optional<TimePoint> next;
  for (const auto& r : records)
    for (const auto& channel : channels) {
      auto o = owed(r, channel, policy);
      if (!o) continue;
      TimePoint at = o->second;
      if (auto retry = retryTime(retryAt, channel, r)) at = std::max(at, *retry);
      next = next ? std::min(*next, at) : at;
    }
  return next;
}

void delivered(std::vector<Record>& records, const Notice& notice, TimePoint now) {
  auto it = std::find_if(records.begin(), records.end(), [&](const Record& r) {
    return r.lineage == notice.record.lineage && r.condition == notice.record.condition;
  });
  if (it == records.end()) return;
  if (notice.kind == NoticeKind::Clear) {
    if (it->active) return;  // it came back meanwhile: the channel still knows it as on
    it->notified.erase(notice.channel);
    if (it->notified.empty()) records.erase(it);
    return;
  }
  if (it->active) it->notified[notice.channel] = now;
}

}  // namespace sc::alert
