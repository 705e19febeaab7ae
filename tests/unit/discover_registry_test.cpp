// The discovered lineages over time: added, kept through a grace when their
// container goes, retired after it; and remembered across restarts.
#include <gtest/gtest.h>

#include <random>

#include "discover/registry.h"
#include "store/posix_fs.h"
#include "test_support.h"

using namespace sc;
using namespace sc::discover;

namespace {

const TimePoint kT0 = TimePoint{} + std::chrono::hours(24 * 365 * 57);
constexpr std::chrono::seconds kGrace{3600};

Desired wanting(std::initializer_list<std::pair<std::string, std::string>> lineages) {
  Desired d;
  for (const auto& [name, domains] : lineages) {
    Wanted w;
    w.spec.name = name;
    w.values = {{"domains", {domains, "sidecert.domains"}}, {"name", {name, "sidecert.name"}}};
    w.origin = "container " + name;
    d.lineages[name] = w;
  }
  return d;
}

}  // namespace

TEST(DiscoverReconcile, ANewLineageIsAddedAndAGoneOneKeptThroughTheGraceThenRetired) {
  auto p1 = reconcile(wanting({{"a", "a.test"}}), {}, kT0, kGrace);
  EXPECT_EQ(p1.add, std::vector<std::string>{"a"});
  auto p2 = reconcile(wanting({}), p1.next, kT0 + std::chrono::seconds(10), kGrace);
  EXPECT_EQ(p2.gone, std::vector<std::string>{"a"});
  EXPECT_TRUE(p2.retire.empty());
  EXPECT_EQ(p2.wakeAt, kT0 + std::chrono::seconds(10) + kGrace);
  auto early = expireGrace(p2.next, kT0 + kGrace, kGrace);
  EXPECT_TRUE(early.retire.empty());
  auto p3 = expireGrace(p2.next, kT0 + std::chrono::seconds(10) + kGrace, kGrace);
  EXPECT_EQ(p3.retire, std::vector<std::string>{"a"});
  EXPECT_TRUE(p3.next.at("a").retiredAt);
}

TEST(DiscoverReconcile, ARedeployWithinTheGraceIsTheSameLineageAndAChangedLabelBuildsItAnew) {
  auto p1 = reconcile(wanting({{"a", "a.test"}}), {}, kT0, kGrace);
  auto gone = reconcile(wanting({}), p1.next, kT0 + std::chrono::seconds(5), kGrace);
  auto back = reconcile(wanting({{"a", "a.test"}}), gone.next, kT0 + std::chrono::seconds(30), kGrace);
  EXPECT_EQ(back.back, std::vector<std::string>{"a"});
  EXPECT_TRUE(back.add.empty());
  EXPECT_FALSE(back.next.at("a").goneSince);
  EXPECT_EQ(back.next.at("a").since, kT0);
  auto changed = reconcile(wanting({{"a", "a.test,b.test"}}), back.next, kT0 + std::chrono::seconds(40), kGrace);
  EXPECT_EQ(changed.change, std::vector<std::string>{"a"});
  EXPECT_EQ(changed.next.at("a").values.at("domains").text, "a.test,b.test");
}

// The promise of SIDECERT_DISCOVER_GRACE, over generated histories: a lineage is
// retired only once no workload has asked for it for the whole grace; while one
// asks, it is active; and nothing wanted is ever left out.
TEST(DiscoverReconcile, PropertyRetiredOnlyAfterAWholeGraceUnwantedAndWantedAlwaysActive) {
  std::mt19937 rng(32);
  const std::vector<std::string> names = {"a", "b", "c", "d"};
  for (int history = 0; history < 500; ++history) {
    Entries entries;
    TimePoint now = kT0;
    std::map<std::string, TimePoint> lastWanted;
    for (int step = 0; step < 40; ++step) {
      now += std::chrono::seconds(std::uniform_int_distribution<int>(1, 1500)(rng));
      Plan plan;
      if (rng() % 4 == 0) {
        plan = expireGrace(entries, now, kGrace);
      } else {
        Desired d;
        for (const auto& n : names)
          if (rng() % 2) d.lineages[n] = wanting({{n, n + (rng() % 5 == 0 ? ".other" : ".test")}}).lineages[n];
        plan = reconcile(d, entries, now, kGrace);
        for (const auto& [n, w] : d.lineages) {
          lastWanted[n] = now;
          ASSERT_TRUE(plan.next.at(n).active()) << "history " << history << " step " << step;
        }
      }
      for (const auto& n : plan.retire) {
        ASSERT_TRUE(lastWanted.count(n));
        ASSERT_GE(now, lastWanted[n] + kGrace) << n << " retired within the grace, history " << history;
      }
      for (const auto& [n, e] : plan.next)
        if (e.active() && e.goneSince) ASSERT_GT(*e.goneSince, lastWanted[n]);
      entries = plan.next;
    }
  }
}

TEST(DiscoverRegistry, WhatIsSavedIsReadBackAndAHostileFileIsReadWithinBounds) {
  TempDir dir;
  store::PosixFileSystem fs({dir.path()});
  Registry registry(fs, dir.path());
  auto plan = reconcile(wanting({{"a", "a.test"}, {"b", "b.test"}}), {}, kT0, kGrace);
  plan = reconcile(wanting({{"a", "a.test"}}), plan.next, kT0 + std::chrono::seconds(60), kGrace);
  ASSERT_TRUE(registry.save(plan.next));
  auto read = registry.load();
  ASSERT_EQ(read.size(), 2u);
  EXPECT_EQ(read.at("a").values, plan.next.at("a").values);
  EXPECT_EQ(read.at("b").goneSince, kT0 + std::chrono::seconds(60));

  for (const std::string hostile : {"not json", "[1,2,3]", R"({"lineages": 7})",
                                    R"({"lineages": [{"name": 5}, {"name": "x", "since": "yesterday", "values": {}},
                                                     {"name": "y", "since": "2026-01-01T00:00:00Z", "values": {"domains": 3}},
                                                     {"name": "ok", "since": "2026-01-01T00:00:00Z", "values": {}}]})"}) {
    dir.write("discovered.json", hostile);
    auto entries = registry.load();
    EXPECT_LE(entries.size(), 1u) << hostile;
    if (!entries.empty()) EXPECT_EQ(entries.begin()->first, "ok");
  }
}
