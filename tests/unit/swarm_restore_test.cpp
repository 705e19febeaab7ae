// When the swarm's set replaces the local one (src/swarm/restore.h).
#include <gtest/gtest.h>

#include "swarm/restore.h"

using namespace sc::swarm;

TEST(Restore, TheSwarmsSetWinsUnlessItIsTheSameOrAStandIn) {
  RestoreFacts f{std::nullopt, true, false, true, "aa"};
  EXPECT_TRUE(shouldRestore(f));
  f.localFingerprint = "bb";
  EXPECT_TRUE(shouldRestore(f));
  f.localFingerprint = "aa";
  EXPECT_FALSE(shouldRestore(f));
  f.localFingerprint.reset();
  f.swarmSelfSigned = true;
  EXPECT_FALSE(shouldRestore(f));
  f.swarmSelfSigned = false;
  f.swarmUsable = false;
  EXPECT_FALSE(shouldRestore(f));
  EXPECT_FALSE(shouldRestore(RestoreFacts{}));
}
