// Rolling a set out to the gateway's service (src/swarm/publisher.cpp).
#include <gtest/gtest.h>

#include "swarm_fakes.h"

using namespace swarm_fakes;

TEST(SwarmPublisher, RollsEachNewSetOutAndKeepsOnlyWhatRollbackNeeds) {
  FakeSwarm swarm;
  Node a(swarm, "a");
  a.lead();
  auto target = fastTarget();
  target.gid = 101;
  SwarmPublisher publisher(*a.session, target);
  std::vector<std::string> keys;
  for (int round = 1; round <= 3; ++round) {
    a.writeLive();
    auto ok = publisher.reload(a.event());
    ASSERT_TRUE(ok) << ok.error().message;
    auto spec = parse(swarm.services["svc-gw"].spec);
    auto container = spec->getObject("TaskTemplate")->getObject("ContainerSpec");
    std::map<std::string, std::string> byTarget;
    for (auto list : {container->getArray("Secrets"), container->getArray("Configs")})
      for (std::size_t i = 0; list && i < list->size(); ++i)
        byTarget[list->getObject(i)->getObject("File")->getValue<std::string>("Name")] =
            list->getObject(i)->optValue<std::string>("SecretName", list->getObject(i)->optValue<std::string>("ConfigName", ""));
    EXPECT_EQ(byTarget.size(), 6u);  // the user's own config, and our five files
    EXPECT_EQ(byTarget["/etc/gw.conf"], "users-own");
    keys.push_back(byTarget["/var/lib/certs/live/aiotes/privkey.pem"]);
    EXPECT_EQ(keys.back().find("-privkey"), keys.back().size() - 8);
  }
  EXPECT_EQ(swarm.updates, 3 + 1);  // three rollouts, and the lease
  // left: generation 3 (Spec), generation 2 (PreviousSpec), and 3's sealed set
  std::set<std::string> secretNames, configNames;
  for (auto& [id, o] : swarm.secrets) secretNames.insert(o.name);
  for (auto& [id, o] : swarm.configs) configNames.insert(o.name);
  EXPECT_EQ(secretNames.size(), 2u * 2);
  EXPECT_EQ(configNames.size(), 2u * 3 + 1);
  EXPECT_TRUE(secretNames.count(keys[2]) && secretNames.count(keys[1]) && !secretNames.count(keys[0]));
  // the same set again changes nothing
  auto before = swarm.services["svc-gw"].version;
  ASSERT_TRUE(publisher.reload(a.event()));
  EXPECT_EQ(swarm.services["svc-gw"].version, before);
}

TEST(SwarmPublisher, AServiceDeployedAgainGetsItsSetBackFromTheStore) {
  FakeSwarm swarm;
  Node a(swarm, "a");
  a.lead();
  SwarmPublisher publisher(*a.session, fastTarget());
  ASSERT_TRUE(publisher.reload(a.event()));
  const auto mounted = namesIn(parse(swarm.services["svc-gw"].spec));
  EXPECT_FALSE(*publisher.repoint("aiotes"));  // nothing lost: no update
  auto before = swarm.updates;
  // `docker stack deploy` again: the spec is the stack file's, without our files
  swarm.services["svc-gw"].spec = R"({"Name":"demo_gw","TaskTemplate":{"ContainerSpec":{"Image":"gw2",
      "Configs":[{"File":{"Name":"/etc/gw.conf"},"ConfigID":"u1","ConfigName":"users-own"}]}}})";
  a.writeLive();  // the live set has moved on: what counts is what the store holds
  auto back = publisher.repoint("aiotes");
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_TRUE(*back);
  EXPECT_EQ(swarm.updates, before + 1);
  EXPECT_EQ(namesIn(parse(swarm.services["svc-gw"].spec)), mounted);
  EXPECT_EQ(parse(swarm.services["svc-gw"].spec)->getObject("TaskTemplate")->getObject("ContainerSpec")->getValue<std::string>("Image"), "gw2");
}

TEST(SwarmPublisher, ARolloutRolledBackFailsTheReload) {
  FakeSwarm swarm;
  swarm.rollout = "rollback_completed";
  Node a(swarm, "a");
  a.lead();
  SwarmPublisher publisher(*a.session, fastTarget());
  auto ok = publisher.reload(a.event());
  ASSERT_FALSE(ok);
  EXPECT_NE(ok.error().message.find("ended rollback_completed: update rollback_completed"), std::string::npos)
      << ok.error().message;
}

TEST(SwarmPublisher, AnEventWithoutASetIsAnErrorAndWritesNothing) {
  FakeSwarm swarm;
  Node a(swarm, "a");
  a.lead();
  SwarmPublisher publisher(*a.session, fastTarget());
  auto event = a.event();
  event.files.reset();
  auto ok = publisher.reload(event);
  ASSERT_FALSE(ok);
  EXPECT_NE(ok.error().message.find("holds no set to hand on"), std::string::npos) << ok.error().message;
  EXPECT_EQ(swarm.configs.size(), 0u);
  EXPECT_EQ(swarm.updates, 1);  // the lease only
}

TEST(SwarmPublisher, WithoutTheLeaseNothingIsWritten) {
  FakeSwarm swarm;
  Node a(swarm, "a");
  ASSERT_TRUE(a.session->start());
  a.writeLive();
  SwarmPublisher publisher(*a.session, fastTarget());
  auto ok = publisher.reload(a.event());
  ASSERT_FALSE(ok);
  EXPECT_NE(ok.error().message.find("does not hold the swarm lease"), std::string::npos);
  EXPECT_EQ(swarm.configs.size(), 0u);
  EXPECT_EQ(swarm.updates, 0);
}

TEST(SwarmPublisher, AHostileEngineReplyIsAnErrorNotACrash) {
  FakeSwarm swarm;
  Node a(swarm, "a");
  a.lead();
  SwarmPublisher publisher(*a.session, fastTarget());
  for (auto path : {"/configs", "/services/demo_gw", "/secrets/create"}) {
    swarm.hostile = path;
    auto ok = publisher.reload(a.event());
    EXPECT_FALSE(ok) << path;
  }
  swarm.hostile = "/services/svc-sc";
  std::string why;
  EXPECT_FALSE(a.session->holdLease(why));
  swarm.hostile = "/containers";
  Node b(swarm, "b");
  EXPECT_FALSE(b.session->start());
}
