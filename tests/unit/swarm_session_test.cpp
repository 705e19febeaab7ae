// A node's session (src/swarm/session.cpp): the sealing key, and the lease held by one task at a time.
#include <gtest/gtest.h>

#include "swarm_fakes.h"

using namespace swarm_fakes;

TEST(Session, FirstStartGivesItsServiceTheSealingKeyThenRestarts) {
  FakeSwarm swarm;
  StepClock clock;
  Session session(swarm, "box-a", "/nonexistent/seal", clock);
  auto started = session.start();
  ASSERT_TRUE(started) << started.error().message;
  EXPECT_EQ(*started, Session::Start::Restarting);
  ASSERT_EQ(swarm.secrets.size(), 1u);
  EXPECT_EQ(swarm.secrets.begin()->second.data.size(), 32u);
  auto spec = parse(swarm.services["svc-sc"].spec);
  EXPECT_TRUE(namesIn(spec).count(sealSecretName("demo_sidecert")));
  EXPECT_EQ(spec->getObject("Labels")->getValue<std::string>("keep"), "me");
  // a second start without the file (the stack deployed again) mounts the same secret
  Session again(swarm, "box-b", "/nonexistent/seal", clock);
  ASSERT_TRUE(again.start());
  EXPECT_EQ(swarm.secrets.size(), 1u);
}

TEST(Session, ASealingKeyOfTheWrongSizeIsAClearError) {
  FakeSwarm swarm;
  Node node(swarm, "a", "too short");
  auto started = node.session->start();
  ASSERT_FALSE(started);
  EXPECT_NE(started.error().message.find("not a sealing key"), std::string::npos);
}

TEST(Session, OneLeaseHolderAtATime) {
  FakeSwarm swarm;
  Node a(swarm, "a"), b(swarm, "b");
  ASSERT_EQ(*a.session->start(), Session::Start::Ready);
  ASSERT_EQ(*b.session->start(), Session::Start::Ready);
  std::string why;
  EXPECT_TRUE(*a.session->holdLease(why));
  EXPECT_TRUE(a.session->mayAct());
  EXPECT_FALSE(*b.session->holdLease(why));
  EXPECT_NE(why.find("task-a holds it"), std::string::npos) << why;
  EXPECT_FALSE(b.session->mayAct());
  // a's node is cut off: it cannot extend, and stops acting before the lease ends
  a.clock.t += kLeaseFor - kLeaseClockMargin;
  EXPECT_FALSE(a.session->mayAct());
  b.clock.t += kLeaseFor;
  EXPECT_TRUE(*b.session->holdLease(why));
  EXPECT_FALSE(*a.session->holdLease(why));  // a, back, finds b's lease
  // b's task told to stop, but not yet stopped: a waits
  swarm.tasks["task-b"] = "running";
  EXPECT_FALSE(*a.session->holdLease(why));
  // b's node reported it ended: a need not wait for the lease to end
  swarm.tasks["task-b"] = "shutdown";
  EXPECT_TRUE(*a.session->holdLease(why));
  swarm.tasks.erase("task-a");  // a task the swarm forgot has ended too
  b.clock.t = a.clock.t;
  EXPECT_TRUE(*b.session->holdLease(why)) << why;
  EXPECT_EQ(parse(swarm.services["svc-sc"].spec)->getObject("Labels")->getValue<std::string>("keep"), "me");
}
