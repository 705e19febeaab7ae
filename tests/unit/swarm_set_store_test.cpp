// Sets and account keys kept in the swarm (src/swarm/set_store.cpp), sealed.
#include <gtest/gtest.h>

#include "crypto/seal.h"
#include "swarm_fakes.h"

using namespace swarm_fakes;

TEST(SetStore, AGenerationIsWrittenOnceAndReadBackWhole) {
  FakeSwarm swarm;
  Node a(swarm, "a");
  ASSERT_TRUE(a.session->start());
  auto& store = a.session->store();
  auto files = newSet();
  auto g1 = store.put("aiotes", files, store::Source::Acme, wallClockNow());
  ASSERT_TRUE(g1) << g1.error().message;
  EXPECT_EQ(g1->number, 1);
  EXPECT_TRUE(g1->created);
  EXPECT_EQ(swarm.secrets.size(), 2u);  // privkey, combined
  EXPECT_EQ(swarm.configs.size(), 4u);  // cert, chain, fullchain, the sealed set
  auto again = store.put("aiotes", files, store::Source::Acme, wallClockNow());
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->number, 1);
  EXPECT_EQ(swarm.configs.size(), 4u);
  auto g2 = store.put("aiotes", newSet(), store::Source::User, wallClockNow());
  EXPECT_EQ(g2->number, 2);
  auto newest = store.newest("aiotes");
  ASSERT_TRUE(newest && *newest);
  EXPECT_EQ((*newest)->generation, 2);
  EXPECT_EQ((*newest)->source, store::Source::User);
  // another node with the same key reads it; one with another key cannot
  Node b(swarm, "b");
  ASSERT_TRUE(b.session->start());
  EXPECT_EQ((*b.session->store().newest("aiotes"))->files.privkey, (*newest)->files.privkey);
  Node c(swarm, "b", std::string(32, 'z'));
  ASSERT_TRUE(c.session->start());
  EXPECT_FALSE(*c.session->store().newest("aiotes"));
}

TEST(SetStore, ABoxRelabelledAsANewerGenerationDoesNotOpen) {
  FakeSwarm swarm;
  Node a(swarm, "a");
  ASSERT_TRUE(a.session->start());
  auto files = newSet();
  ASSERT_TRUE(a.session->store().put("aiotes", files, store::Source::Acme, wallClockNow()));
  ASSERT_TRUE(a.session->store().put("aiotes", newSet(), store::Source::Acme, wallClockNow()));
  for (auto& [id, o] : swarm.configs)  // someone with the socket relabels generation 1 as 9
    if (o.labels->optValue<std::string>(kLabelRole, "") == "set" && o.labels->getValue<std::string>(kLabelGeneration) == "1")
      o.labels->set(kLabelGeneration, "9");
  auto newest = a.session->store().newest("aiotes");
  ASSERT_TRUE(newest && *newest);
  EXPECT_EQ((*newest)->generation, 2);
}

TEST(SetStore, AccountKeysSurviveInTheStore) {
  FakeSwarm swarm;
  Node a(swarm, "a"), b(swarm, "b");
  ASSERT_TRUE(a.session->start());
  ASSERT_TRUE(b.session->start());
  EXPECT_FALSE(*b.session->store().account("https://ca/dir"));
  ASSERT_TRUE(a.session->store().putAccount("https://ca/dir", {"-----BEGIN KEY", "https://ca/acct/1"}));
  ASSERT_TRUE(a.session->store().putAccount("https://ca/dir", {"-----BEGIN KEY", "https://ca/acct/1"}));  // once
  auto copy = b.session->store().account("https://ca/dir");
  ASSERT_TRUE(copy && *copy);
  EXPECT_EQ((*copy)->key, "-----BEGIN KEY");
  EXPECT_EQ((*copy)->url, "https://ca/acct/1");
  EXPECT_FALSE(*b.session->store().account("https://other/dir"));
}

TEST(SetStore, ASealedAccountCopyOfTheWrongShapeIsAnError) {
  FakeSwarm swarm;
  Node a(swarm, "a");
  ASSERT_TRUE(a.session->start());
  // sealed with the right key and context, but the key is a number: a bug or a forgery
  auto box = crypto::seal(std::string(32, 'k'), R"({"key": 42, "url": []})", "sidecert account\ndemo_sidecert\nhttps://ca/dir");
  ASSERT_TRUE(box);
  Object::Ptr labels = new Object;
  labels->set(kLabelScope, "demo_sidecert");
  labels->set(kLabelRole, "account");
  swarm.configs["x"] = {accountName("demo_sidecert", "https://ca/dir"), labels, *box};
  auto copy = a.session->store().account("https://ca/dir");
  ASSERT_FALSE(copy);
  EXPECT_NE(copy.error().message.find("holds no PEM key"), std::string::npos) << copy.error().message;
}
