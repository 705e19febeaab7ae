// The Engine API for services (src/swarm/api.cpp): writes naming a stale version, edits that race.
#include <gtest/gtest.h>

#include "swarm_fakes.h"

using namespace swarm_fakes;

TEST(SwarmApi, AStaleWriteOfTheLeaseIsRefused) {
  FakeSwarm swarm;
  SwarmApi api(swarm);
  auto read = api.service("svc-sc");
  ASSERT_TRUE(read);
  ASSERT_TRUE(api.update(*read, *read->spec));
  auto stale = api.update(*read, *read->spec);
  ASSERT_FALSE(stale);
  EXPECT_TRUE(stale.error().is(ErrorKind::Conflict));
}

TEST(SwarmApi, AnEditReadsAgainAfterSomeoneElsesWriteAndGivesUpAfterFour) {
  FakeSwarm swarm;
  SwarmApi api(swarm);
  int edits = 0;
  auto change = [&](Service& s) -> Result<bool> {
    ++edits;
    setLabel(*s.spec, "x", std::to_string(edits));
    return true;
  };
  swarm.racers = 2;
  auto ok = api.edit("svc-sc", change);
  ASSERT_TRUE(ok && *ok);
  EXPECT_EQ(edits, 3);
  EXPECT_EQ(parse(swarm.services["svc-sc"].spec)->getObject("Labels")->getValue<std::string>("x"), "3");
  swarm.racers = 4;
  edits = 0;
  auto lost = api.edit("svc-sc", change);
  ASSERT_FALSE(lost);
  EXPECT_TRUE(lost.error().is(ErrorKind::Conflict));
  EXPECT_EQ(edits, 4);
  // a lease writer that always loses the race waits, and says why
  Node a(swarm, "a");
  ASSERT_TRUE(a.session->start());
  swarm.racers = 4;
  std::string why;
  EXPECT_FALSE(*a.session->holdLease(why));
  EXPECT_EQ(why, "the service changed under every attempt to write the lease");
  EXPECT_FALSE(a.session->mayAct());
}
