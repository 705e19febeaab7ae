#include "swarm/lease.h"

#include <charconv>

#include "core/time_format.h"

namespace sc::swarm {

std::optional<LeaseRecord> parseLease(const std::string& label) {
  auto space = label.find(' ');
  if (space == std::string::npos || space == 0 || space > 128) return std::nullopt;
  long long seconds = 0;
  const char* begin = label.data() + space + 1;
  const char* end = label.data() + label.size();
  auto [stop, ec] = std::from_chars(begin, end, seconds);
  if (ec != std::errc() || stop != end || seconds < 0) return std::nullopt;
  return LeaseRecord{label.substr(0, space), TimePoint(std::chrono::seconds(seconds))};
}

std::string formatLease(const LeaseRecord& lease) {
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(lease.expires.time_since_epoch()).count();
  return lease.holder + " " + std::to_string(seconds);
}

LeaseVerdict judgeLease(const std::optional<LeaseRecord>& current, const std::string& me, bool holderStopped,
                        TimePoint now) {
  if (!current) return {true, "no lease is held", {}};
  if (current->holder == me) return {true, "ours: extended", {}};
  if (current->expires <= now) return {true, "the lease of task " + current->holder + " ended at " + formatTime(current->expires), {}};
  if (holderStopped) return {true, "task " + current->holder + " that holds it has ended", {}};
  return {false, "task " + current->holder + " holds it until " + formatTime(current->expires), current->expires};
}

}  // namespace sc::swarm
