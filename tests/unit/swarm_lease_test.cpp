// The swarm lease (src/swarm/lease.cpp): its text form, and who may take it.
#include <gtest/gtest.h>

#include <chrono>

#include "swarm/lease.h"

using namespace sc;
using namespace sc::swarm;

TEST(Lease, ParsedAndJudged) {
  TimePoint now(std::chrono::seconds(1000));
  EXPECT_FALSE(parseLease(""));
  EXPECT_FALSE(parseLease("task"));
  EXPECT_FALSE(parseLease("task 12x"));
  EXPECT_FALSE(parseLease(" 12"));
  auto l = parseLease(formatLease({"t1", now + std::chrono::seconds(30)}));
  ASSERT_TRUE(l);
  EXPECT_EQ(l->holder, "t1");
  EXPECT_TRUE(judgeLease(std::nullopt, "me", false, now).take);
  EXPECT_TRUE(judgeLease(l, "t1", false, now).take);                               // ours: extended
  EXPECT_FALSE(judgeLease(l, "me", false, now).take);                              // another's, running
  EXPECT_EQ(judgeLease(l, "me", false, now).askAgainAt, l->expires);
  EXPECT_TRUE(judgeLease(l, "me", true, now).take);                                // its task has ended
  EXPECT_TRUE(judgeLease(l, "me", false, now + std::chrono::seconds(30)).take);  // the lease ended
  EXPECT_TRUE(leaseValid(now + kLeaseFor, now));
  EXPECT_FALSE(leaseValid(now + kLeaseClockMargin, now));
}
