#include "app/settle.h"

#include <gtest/gtest.h>

using namespace sc;
using namespace std::chrono_literals;

namespace {

// A drop of three files with these gaps between them, as the supervisor sees it:
// a pass runs whenever the timer falls due before the next file. Returns how many
// passes judged a part of the set (0: the whole set was judged at once).
int passesBeforeTheLastFile(std::initializer_list<std::chrono::milliseconds> gaps) {
  app::SettleTimer timer;
  TimePoint t{};
  timer.noteChange(t);
  int early = 0;
  for (auto gap : gaps) {
    if (*timer.settleAt() <= t + gap) {
      ++early;
      timer.passStarted();
    }
    t += gap;
    timer.noteChange(t);
  }
  return early;
}

}  // namespace

// docker cp of privkey.pem, cert.pem, chain.pem as measured here (docker 20.10):
// 0.32 and 0.53 s apart with a load of 7.5, 0.08 to 0.15 s when idle.
TEST(SettleTimer, ThreeFilesDroppedAsDockerCpDropsThemAreJudgedAsOneSet) {
  EXPECT_EQ(passesBeforeTheLastFile({322ms, 526ms}), 0);
  EXPECT_EQ(passesBeforeTheLastFile({153ms, 152ms}), 0);
  EXPECT_EQ(passesBeforeTheLastFile({93ms, 80ms}), 0);
}

TEST(SettleTimer, AChangeAloneIsLookedAtWithinASecond) {
  app::SettleTimer timer;
  TimePoint t{};
  EXPECT_FALSE(timer.settleAt());
  timer.noteChange(t);
  ASSERT_TRUE(timer.settleAt());
  EXPECT_LT(*timer.settleAt() - t, 1000ms);
}

// The first file alone is judged (a key alone waits for its certificate under the
// user grace); the second must not be judged without the third when the dropper
// keeps its own slower pace.
TEST(SettleTimer, ADropperSlowerThanTheQuietPeriodIsWaitedForAtItsOwnPace) {
  EXPECT_EQ(passesBeforeTheLastFile({1100ms, 1100ms}), 1);
  EXPECT_EQ(passesBeforeTheLastFile({1400ms, 1500ms}), 1);
}

TEST(SettleTimer, NeverLongerThanMaxSettleAfterTheFirstChangeOfABurst) {
  app::SettleTimer timer;
  TimePoint t{};
  for (int i = 0; i < 20; ++i, t += 400ms) timer.noteChange(t);  // changes that never stop
  EXPECT_LE(*timer.settleAt(), TimePoint{} + app::kMaxSettle);
  timer.passStarted();
  timer.noteChange(t);
  timer.noteChange(t + 2900ms);  // a slow pace carried over: still bounded by this burst's start
  EXPECT_LE(*timer.settleAt(), t + app::kMaxSettle);
}

// The 2 s poll of a lineage without an inotify watch finds a drop at its own pace,
// and a change noted at start is no file of a drop: neither lengthens the wait.
TEST(SettleTimer, ChangesNotSeenAsTheyHappenedTellNoPace) {
  app::SettleTimer timer;
  TimePoint t{};
  timer.noteChange(t, false);  // at start: live/<name> not ours yet
  timer.passStarted();
  timer.noteChange(t + 1500ms, false);  // the poll's tick
  EXPECT_EQ(*timer.settleAt(), t + 1500ms + app::kQuietPeriod);
  timer.passStarted();
  timer.noteChange(t + 2000ms);  // seen as it happened, after changes that were not
  EXPECT_EQ(*timer.settleAt(), t + 2000ms + app::kQuietPeriod);
}
