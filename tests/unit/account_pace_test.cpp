// The account-wide pace: tables of moments, a property test over generated
// request sequences, and its file read back whole, damaged and hostile.
#include "renew/account_pace.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

#include "core/time_format.h"
#include "store/pace_file.h"
#include "store/posix_fs.h"
#include "test_support.h"

using namespace sc;
using namespace std::chrono;
using renew::PaceBook;
using renew::Urgency;

namespace {

const TimePoint t0 = fromUnixSeconds(1'800'000'000);
const renew::PaceLimits kTenPerTen{{10, seconds(10)}, {5, hours(1)}};
const std::vector<std::string> kNames = {"a.test"};
// The slack after a window (account_pace.cpp): a tenth of 10 s.
constexpr auto kSlack = milliseconds(1000);

Urgency none() { return {}; }
Urgency until(TimePoint t) { return {t}; }

}  // namespace

TEST(AccountPace, TurnsAsATable) {
  struct Case {
    const char* what;
    std::vector<seconds> placedAgo;
    std::size_t k;
    TimePoint expected;
  } cases[] = {
      {"nothing placed: now", {}, 0, t0},
      {"nine placed: the tenth now", std::vector<seconds>(9, seconds(1)), 0, t0},
      {"nine placed: the eleventh waits for the oldest", std::vector<seconds>(9, seconds(1)), 1,
       t0 + seconds(9) + kSlack},
      {"ten placed 4 s ago: 6 s and the slack", std::vector<seconds>(10, seconds(4)), 0, t0 + seconds(6) + kSlack},
      {"ten placed, third in line: the third to leave", {seconds(9), seconds(8), seconds(7), seconds(1), seconds(1),
                                                         seconds(1), seconds(1), seconds(1), seconds(1), seconds(1)},
       2, t0 + seconds(3) + kSlack},
      {"orders out of the window do not count", std::vector<seconds>(30, seconds(11)), 0, t0},
  };
  for (const auto& c : cases) {
    std::vector<TimePoint> placed;
    for (auto ago : c.placedAgo) placed.push_back(t0 - ago);
    EXPECT_EQ(renew::slotFor(placed, kTenPerTen.orders, c.k, t0, t0), c.expected) << c.what;
  }
  // An order ahead of the clock counts as now; no limit: only `earliest`.
  EXPECT_EQ(renew::slotFor(std::vector<TimePoint>(10, t0 + hours(5)), kTenPerTen.orders, 0, t0, t0),
            t0 + seconds(10) + kSlack);
  EXPECT_EQ(renew::slotFor(std::vector<TimePoint>(99, t0), {}, 5, t0 + seconds(3), t0), t0 + seconds(3));
}

TEST(AccountPace, ANewNameGoesBeforeARenewalWithTimeLeft) {
  PaceBook book({{1, seconds(10)}, {}}, {});  // one order per 10 s: each turn is one token
  const auto renewing = until(t0 + hours(24 * 20));
  ASSERT_LE(book.take("x", none(), kNames, t0).at, t0);
  // Spent: a renewal with weeks left asks first, and is given the next turn.
  auto renewal = book.take("renewal", renewing, kNames, t0);
  EXPECT_EQ(renewal.at, t0 + seconds(10) + kSlack);
  EXPECT_NE(renewal.why.find("account pace"), std::string::npos) << renewal.why;
  EXPECT_TRUE(book.wait("renewal", renewing, renewal.at, t0));
  // A new name asks later, and is given that same turn: it goes first.
  auto turn = t0 + seconds(10) + kSlack;
  auto fresh = book.ask("new", none(), kNames, t0 + seconds(1));
  EXPECT_EQ(fresh.at, turn);
  EXPECT_TRUE(book.wait("new", none(), fresh.at, t0 + seconds(1)));
  // Back at its turn, the renewal finds the new name ahead and waits one more.
  auto moved = book.take("renewal", renewing, kNames, turn);
  EXPECT_EQ(moved.at, turn + seconds(10) + kSlack);
  EXPECT_NE(moved.why.find("1 more urgent lineage ahead"), std::string::npos) << moved.why;
  EXPECT_TRUE(book.wait("renewal", renewing, moved.at, turn));
  EXPECT_LE(book.take("new", none(), kNames, turn).at, turn);
  EXPECT_GT(book.take("renewal", renewing, kNames, turn).at, turn);
  EXPECT_LE(book.take("renewal", renewing, kNames, moved.at).at, moved.at);
}

TEST(AccountPace, ALineageNotHeardOfYetHoldsBackOnlyThoseWithTimeLeft) {
  PaceBook book({{1, seconds(10)}, {}}, {});  // one token: for whoever needs it most
  const auto renewing = until(t0 + hours(24 * 20));
  book.enrol("quiet", t0);
  auto renewal = book.ask("renewal", renewing, kNames, t0);
  EXPECT_GT(renewal.at, t0);  // the token is free, but the unheard-of lineage may need it more
  EXPECT_LE(renewal.at, t0 + renew::kPaceUnknownRecheck);
  EXPECT_NE(renewal.why.find("not heard of yet"), std::string::npos) << renewal.why;
  EXPECT_LE(book.ask("new", none(), kNames, t0).at, t0);  // nothing is more urgent than none yet
  EXPECT_FALSE(book.idle("quiet"));                       // heard of: it needs nothing
  EXPECT_LE(book.ask("renewal", renewing, kNames, t0).at, t0);
  book.enrol("silent", t0);  // never heard of: counts for kPaceUnknownFor only
  EXPECT_GT(book.ask("renewal", renewing, kNames, t0 + seconds(1)).at, t0 + seconds(1));
  EXPECT_LE(book.ask("renewal", renewing, kNames, t0 + renew::kPaceUnknownFor).at, t0 + renew::kPaceUnknownFor);
}

TEST(AccountPace, ARateLimitedHoldStopsEveryLineageUntilItEnds) {
  PaceBook book(kTenPerTen, {});
  EXPECT_TRUE(book.hold(t0 + seconds(30), "too many new orders recently", t0));
  EXPECT_FALSE(book.hold(t0 + seconds(20), "an earlier end", t0));  // the later hold stands
  for (const auto* name : {"a", "b", "c"}) {
    auto turn = book.take(name, none(), kNames, t0 + seconds(29));
    EXPECT_EQ(turn.at, t0 + seconds(30)) << name;
    EXPECT_NE(turn.why.find("rateLimited"), std::string::npos) << turn.why;
  }
  EXPECT_LE(book.take("a", none(), kNames, t0 + seconds(30)).at, t0 + seconds(30));
  // A hostile Retry-After of years is held for a week at most.
  EXPECT_TRUE(book.hold(t0 + hours(24 * 365 * 5), "years", t0));
  EXPECT_EQ(*book.record().holdUntil, t0 + renew::kRateLimitedMaxHold);
}

TEST(AccountPace, ANameWhoseValidationsFailedWaitsForTheWindow) {
  PaceBook book(kTenPerTen, {});
  for (int i = 0; i < 5; ++i) book.validationFailed("a.test", t0 + minutes(i));
  auto turn = book.ask("x", none(), {"b.test", "a.test"}, t0 + minutes(10));
  EXPECT_EQ(turn.at, t0 + hours(1));  // the first of the five leaves the hour
  EXPECT_NE(turn.why.find("validation of a.test failed 5 times"), std::string::npos) << turn.why;
  EXPECT_LE(book.ask("y", none(), {"b.test"}, t0 + minutes(10)).at, t0 + minutes(10));  // other names are free
  EXPECT_LE(book.ask("x", none(), {"a.test"}, t0 + hours(1)).at, t0 + hours(1));
}

TEST(AccountPace, AStaleWaiterNoLongerHoldsTheQueue) {
  PaceBook book(kTenPerTen, {});
  for (int i = 0; i < 10; ++i) ASSERT_LE(book.take("x" + std::to_string(i), none(), kNames, t0).at, t0);
  auto first = t0 + seconds(10) + kSlack;
  EXPECT_TRUE(book.wait("gone", none(), first, t0));
  auto later = t0 + seconds(10) + kSlack + renew::kPaceStaleAfter + seconds(1);
  EXPECT_LE(book.ask("renewal", until(t0 + hours(48)), kNames, later).at, later);
}

// Lineages of random urgency arrive at random moments, each needing one order;
// each asks when it arrives and again at the turn it was given, as passes do.
// Whatever the sequence: never more than `count` orders in any window, no order
// inside a rateLimited hold, and a lineage takes a turn only when every more
// urgent one already waiting can still have one (the most urgent first).
TEST(AccountPace, PropertyNeverMoreThanTheLimitAndTheMostUrgentFirst) {
  std::mt19937 rng(20261206);
  for (int round = 0; round < 200; ++round) {
    renew::PaceLimits limits{{1 + static_cast<int>(rng() % 5), seconds(1 + rng() % 20)}, {}};
    PaceBook book(limits, {});
    struct L {
      Urgency urgency;
      TimePoint arrives, next;
      std::optional<TimePoint> took;
    };
    std::vector<L> ls(5 + rng() % 30);
    for (auto& l : ls) {
      l.arrives = l.next = t0 + seconds(rng() % 60);
      if (rng() % 3) l.urgency = until(t0 + hours(1 + rng() % 1000));
    }
    std::vector<std::pair<TimePoint, TimePoint>> holds;
    std::vector<TimePoint> orders;
    std::string trace;  // what happened, said when a property fails
    for (int step = 0; step < 10000; ++step) {
      TimePoint now = TimePoint::max();
      for (const auto& l : ls)
        if (!l.took) now = std::min(now, l.next);
      if (now == TimePoint::max()) break;
      if (rng() % 40 == 0 && book.hold(now + seconds(rng() % 30), "rateLimited", now)) {
        holds.emplace_back(now, *book.record().holdUntil);
        trace += "hold until " + formatTimeMillis(holds.back().second) + "\n";
      }
      std::vector<std::size_t> due;
      for (std::size_t i = 0; i < ls.size(); ++i)
        if (!ls[i].took && ls[i].next <= now) due.push_back(i);
      std::shuffle(due.begin(), due.end(), rng);
      for (auto i : due) {
        auto name = "l" + std::to_string(i);
        // The turns free now, before this one asks: none in a hold.
        std::size_t free = 0;
        bool held = book.record().holdUntil && *book.record().holdUntil > now;
        while (!held && free < ls.size() && renew::slotFor(book.record().orders, limits.orders, free, now, now) <= now)
          ++free;
        std::size_t moreUrgentWaiting = 0;  // asked before now, not served yet
        for (const auto& m : ls)
          if (!m.took && m.arrives < now && renew::moreUrgent(m.urgency, ls[i].urgency)) ++moreUrgentWaiting;
        auto turn = book.take(name, ls[i].urgency, kNames, now);
        if (turn.at <= now) {
          ASSERT_LT(moreUrgentWaiting, free) << "round " << round << ": " << name
                                             << " took a turn a more urgent lineage waiting needed\n" << trace;
        }
        trace += formatTimeMillis(now) + " " + name + (ls[i].urgency.servesUntil ? " serves" : " none") + " -> " +
                 formatTimeMillis(turn.at) + " " + turn.why + "\n";
        if (turn.at <= now) {
          ls[i].took = now;
          orders.push_back(now);
          continue;
        }
        (void)book.wait(name, ls[i].urgency, turn.at, now);
        ls[i].next = turn.at;
      }
    }
    for (const auto& l : ls) ASSERT_TRUE(l.took) << "round " << round << ": a lineage never got its turn";
    std::sort(orders.begin(), orders.end());
    auto count = static_cast<std::size_t>(limits.orders.count);
    for (std::size_t i = 0; i + count < orders.size(); ++i)
      ASSERT_GE(orders[i + count] - orders[i], limits.orders.window) << "round " << round << ": too many in a window";
    for (const auto& [from, to] : holds)
      for (auto t : orders) ASSERT_FALSE(t >= from && t < to) << "round " << round << ": an order inside a hold";

  }
}

TEST(PaceFile, KeepsWhatWasCountedAndReadsDamageConservatively) {
  TempDir dir;
  store::PosixFileSystem fs({dir.path()});
  store::PaceFile file(fs, dir.path(), "https://ca.test/dir");
  EXPECT_TRUE(file.load(kTenPerTen, t0).record.orders.empty());  // a fresh account
  renew::PaceRecord r;
  r.orders = {t0 - seconds(3), t0 - seconds(1)};
  r.holdUntil = t0 + seconds(40);
  r.holdReason = "too many new orders recently";
  r.failedValidations["a.test"] = {t0 - minutes(5)};
  r.waiting["gw"] = t0 + seconds(7);
  ASSERT_TRUE(file.save(r));
  auto back = file.load(kTenPerTen, t0);
  EXPECT_EQ(back.problem, "");
  EXPECT_EQ(back.record.orders, r.orders);
  EXPECT_EQ(back.record.holdUntil, r.holdUntil);
  EXPECT_EQ(back.record.holdReason, r.holdReason);
  EXPECT_EQ(back.record.failedValidations, r.failedValidations);
  EXPECT_EQ(back.record.waiting, r.waiting);
  // Damaged: not JSON, not an object, an entry that is no time.
  struct Case {
    const char* content;
    std::size_t orders;  // counted as placed at t0
  } cases[] = {{"{\"orders\": [\"2027-01-15T08:00:00Z\", ", 10},
               {"[1, 2, 3]", 10},
               {"{\"orders\": [\"yesterday\", 7, \"2027-01-15T08:00:00Z\"]}", 3},
               {"{\"orders\": \"none\"}", 10}};
  for (const auto& c : cases) {
    ASSERT_TRUE(fs.remove(file.file()));
    ASSERT_TRUE(fs.writeNew(file.file(), c.content, 0600));
    auto damaged = file.load(kTenPerTen, t0);
    EXPECT_NE(damaged.problem, "") << c.content;
    EXPECT_EQ(damaged.record.orders.size(), c.orders) << c.content;
    PaceBook book(kTenPerTen, damaged.record);
    if (c.orders >= 10) {  // no order for a window
      EXPECT_GT(book.ask("x", none(), kNames, t0).at, t0) << c.content;
    }
  }
}
