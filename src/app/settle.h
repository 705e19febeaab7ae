#pragma once
// When a pass follows what someone else did to live/<name> (a user's drop): once
// the writes have been quiet for a moment, so that a set dropped one file at a
// time is judged whole, never half.
#include <algorithm>
#include <chrono>
#include <optional>

#include "core/clock.h"

namespace sc::app {

// After a change in live/, wait for this much quiet: `docker cp` writes a file in
// one go, and three files come in three commands. Measured here (docker 20.10 into
// a bind mount): 0.32 and 0.53 s between the files with a load of 7.5, 0.08 to
// 0.15 s when idle. 0.8 s covers that, and a lone change is seen within a second.
inline constexpr std::chrono::milliseconds kQuietPeriod{800};
// A dropper slower than that is waited for at its own pace: this many halves of the
// longest gap between its changes (a gap under kMaxSettle counts, even across a
// pass: the first file alone is judged and waited with, the rest must come whole).
inline constexpr int kGapHalves = 3;
// ...but never longer than this after the first change (the contract: 5 seconds).
inline constexpr std::chrono::milliseconds kMaxSettle{3000};

class SettleTimer {
 public:
  // Someone else changed live/<name> at `now`. `paced`: the change was seen as it
  // happened (inotify), so the gap since the one before is the dropper's pace; not
  // so for what the 2 s poll of an unwatched lineage finds, a change seen while a
  // pass ran, or at start: those wait the quiet period alone.
  void noteChange(TimePoint now, bool paced = true) {
    bool sameDrop = paced && lastChange_ && now - *lastChange_ <= kMaxSettle;
    longestGap_ = sameDrop ? std::max(longestGap_, std::chrono::milliseconds(now - *lastChange_))
                           : std::chrono::milliseconds(0);
    lastChange_ = paced ? std::optional<TimePoint>(now) : std::nullopt;
    if (!settleAt_) firstChange_ = now;
    auto quiet = std::max(kQuietPeriod, longestGap_ * kGapHalves / 2);
    settleAt_ = std::min(now + quiet, firstChange_ + kMaxSettle);
  }
  // The pass that follows the changes has started: the burst is over.
  void passStarted() { settleAt_.reset(); }
  // When that pass is due; none while nothing changed.
  std::optional<TimePoint> settleAt() const { return settleAt_; }

 private:
  std::optional<TimePoint> settleAt_;
  TimePoint firstChange_{};
  std::optional<TimePoint> lastChange_;
  std::chrono::milliseconds longestGap_{0};  // between changes of this drop
};

}  // namespace sc::app
