#pragma once
// Who is told what, and when: one notice when a condition starts (once it has
// lasted its threshold), reminders at the policy's interval, one when it clears.
// Every channel keeps its own account, so a channel that is down neither holds
// back the others nor makes them repeat themselves. Pure: records in, records
// and notices out.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "alert/conditions.h"

namespace sc::alert {

// One condition of one lineage, from when it was first seen until every channel
// that heard of it has heard it cleared. Kept across restarts.
struct Record {
  std::string lineage;
  Condition condition;
  TimePoint since{};
  Observation latest;
  bool active = true;
  std::optional<TimePoint> clearedAt;
  std::map<std::string, TimePoint> notified;  // by channel: its last start or reminder delivered
};

enum class NoticeKind { Start, Reminder, Clear, Test };
const char* noticeKindName(NoticeKind k);

struct Notice {
  NoticeKind kind;
  std::string channel;
  Record record;
};

// Folds one lineage's observations into the records: new conditions begin,
// present ones are updated, absent ones clear (or are forgotten if nobody was told).
void merge(std::vector<Record>& records, const std::string& lineage, const std::vector<Observation>& seen,
           TimePoint now);
// Drops the records of lineages no longer configured, silently.
void keepOnly(std::vector<Record>& records, const std::vector<std::string>& lineages);

// What is due for each channel now. `retryAt`: channel -> lineage/condition -> the
// earliest next delivery after a failure.
using RetryTimes = std::map<std::string, std::map<std::string, TimePoint>>;
std::string recordKey(const Record& r);  // "lineage/condition"
std::vector<Notice> dueNotices(const std::vector<Record>& records, const std::vector<std::string>& channels,
                               const Policy& policy, const RetryTimes& retryAt, TimePoint now);
// When something next falls due, if anything will.
std::optional<TimePoint> nextDue(const std::vector<Record>& records, const std::vector<std::string>& channels,
                                 const Policy& policy, const RetryTimes& retryAt);
// Records a delivery: a start or reminder marks the channel told; a clear ends its
// account, and the record once no channel is left to tell.
void delivered(std::vector<Record>& records, const Notice& notice, TimePoint now);

}  // namespace sc::alert
