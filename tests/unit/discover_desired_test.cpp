// Discovery's pure half: which names a container may have, and the desired set
// a reading of the engine gives.
#include <gtest/gtest.h>

#include "config/load.h"
#include "discover/allow.h"
#include "discover/desired.h"
#include "discover/registry.h"

using namespace sc;
using namespace sc::discover;

namespace {

const TimePoint kNow = TimePoint{} + std::chrono::hours(24 * 365 * 57);

Settings discoverySettings(const std::string& allow = "*.example.test,example.test") {
  auto s = loadSettings(std::nullopt,
                        {{"SIDECERT_DISCOVER", "docker"}, {"SIDECERT_DISCOVER_ALLOW", allow},
                         {"SIDECERT_ACME_DIRECTORY", "none"}, {"SIDECERT_DISCOVER_SETTLE", "5s"}},
                        "host-1");
  EXPECT_TRUE(s.has_value()) << s.error().message;
  return *s;
}

Workload container(const std::string& id, std::map<std::string, std::string> labels,
                   std::chrono::seconds up = std::chrono::seconds(60)) {
  Workload w;
  w.id = id;
  w.name = "c-" + id;
  w.labels = std::move(labels);
  w.running = true;
  w.upSince = kNow - up;
  return w;
}

bool refusedWith(const Desired& d, const std::string& workload, const std::string& part) {
  for (const auto& r : d.refused)
    if (r.workload.find(workload) != std::string::npos && r.reason.find(part) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST(DiscoverAllow, PatternsMatchTheNameItselfOrWholeLabelsBelowIt) {
  std::vector<std::string> p = {"*.example.org", "api.test", "192.0.2.7"};
  EXPECT_EQ(allowedBy("a.example.org", p), "*.example.org");
  EXPECT_EQ(allowedBy("a.b.example.org", p), "*.example.org");
  EXPECT_EQ(allowedBy("*.example.org", p), "*.example.org");
  EXPECT_EQ(allowedBy("api.test", p), "api.test");
  EXPECT_EQ(allowedBy("192.0.2.7", p), "192.0.2.7");
  EXPECT_FALSE(allowedBy("example.org", p));        // the parent is not below itself
  EXPECT_FALSE(allowedBy("badexample.org", p));     // a label must end where the pattern starts
  EXPECT_FALSE(allowedBy("www.api.test", p));       // a name pattern is that name only
  EXPECT_FALSE(allowedBy("192.0.2.8", p));
  EXPECT_TRUE(allowedBy("anything.else", {"*"}));
}

TEST(DiscoverDesired, LabelsAndAcmeCompanionsVariablesEachMakeALineage) {
  auto s = discoverySettings();
  auto labelled = container("aaa111", {{"sidecert.domains", "Web.example.test, www.example.test"},
                                       {"sidecert.key_type", "rsa2048"}});
  auto companion = container("bbb222", {});
  companion.env = {{"LETSENCRYPT_HOST", "app.example.test"}};
  auto plain = container("ccc333", {{"com.example.role", "db"}});
  auto d = desiredSet({labelled, companion, plain}, s, {}, {}, kNow);
  ASSERT_EQ(d.lineages.size(), 2u);
  const auto& web = d.lineages.at("web.example.test").spec;
  EXPECT_EQ(web.domains, (std::vector<std::string>{"web.example.test", "www.example.test"}));
  EXPECT_EQ(web.keyType, KeyType::Rsa2048);
  EXPECT_EQ(d.lineages.at("app.example.test").values.at("domains").label, "LETSENCRYPT_HOST");
  EXPECT_TRUE(d.refused.empty());
}

TEST(DiscoverDesired, ANameOutsideTheAllowListIsRefusedNamingTheContainerAndThePatterns) {
  auto d = desiredSet({container("evil99", {{"sidecert.domains", "ok.example.test,bank.other.test"}})},
                      discoverySettings(), {}, {}, kNow);
  EXPECT_TRUE(d.lineages.empty());
  EXPECT_TRUE(refusedWith(d, "c-evil99", "'bank.other.test' is outside SIDECERT_DISCOVER_ALLOW (*.example.test,example.test)"));
}

TEST(DiscoverDesired, BadLabelsAreRefusedOneByOneAndTheOthersGoOn) {
  auto d = desiredSet({container("bad1", {{"sidecert.domains", "not a name.example.test"}}),
                       container("bad2", {{"sidecert.domains", "x.example.test"}, {"sidecert.key_type", "ec512"}}),
                       container("bad3", {{"sidecert.domain", "typo.example.test"}}),
                       container("good", {{"sidecert.domains", "good.example.test"}})},
                      discoverySettings(), {}, {}, kNow);
  EXPECT_EQ(d.lineages.size(), 1u);
  EXPECT_TRUE(refusedWith(d, "c-bad1", "label sidecert.domains"));
  EXPECT_TRUE(refusedWith(d, "c-bad2", "label sidecert.key_type"));
  EXPECT_TRUE(refusedWith(d, "c-bad3", "label sidecert.domain is not one sidecert reads"));
}

TEST(DiscoverDesired, AContainerUpForLessThanTheSettleTimeIsNotYetWantedUnlessItsLineageRuns) {
  auto s = discoverySettings();
  auto young = container("young", {{"sidecert.domains", "young.example.test"}}, std::chrono::seconds(2));
  auto d = desiredSet({young}, s, {}, {}, kNow);
  EXPECT_TRUE(d.lineages.empty());
  ASSERT_TRUE(d.recheckAt);
  EXPECT_EQ(*d.recheckAt, kNow + std::chrono::seconds(3));
  // A restart of a container whose lineage runs keeps it.
  Known runs = {{"young.example.test", *requestedValues(young)}};
  EXPECT_EQ(desiredSet({young}, s, {}, runs, kNow).lineages.size(), 1u);
}

// A label that changes every second (a service updated in a loop) changes nothing:
// the lineage stays as it was until one value has held for the settle time.
TEST(DiscoverDesired, ALineageWhoseLabelKeepsChangingStaysAsItWasUntilOneValueHolds) {
  auto s = discoverySettings();
  auto before = container("svc", {{"sidecert.domains", "a.example.test"}, {"sidecert.name", "a"}});
  auto entries = reconcile(desiredSet({before}, s, {}, {}, kNow), {}, kNow, std::chrono::hours(1)).next;
  for (int second = 1; second <= 10; ++second) {
    auto flapping = container("svc", {{"sidecert.domains", "a.example.test,v" + std::to_string(second) + ".example.test"},
                                      {"sidecert.name", "a"}},
                              std::chrono::seconds(1));
    flapping.upSince = kNow + std::chrono::seconds(second) - std::chrono::milliseconds(900);  // updated again
    Known known = {{"a", entries.at("a").values}};
    auto plan = reconcile(desiredSet({flapping}, s, {}, known, kNow + std::chrono::seconds(second)), entries,
                          kNow + std::chrono::seconds(second), std::chrono::hours(1));
    EXPECT_TRUE(plan.empty()) << "second " << second;
    entries = plan.next;
  }
  EXPECT_EQ(entries.at("a").values.at("domains").text, "a.example.test");
  EXPECT_FALSE(entries.at("a").goneSince);
  auto settled = container("svc", {{"sidecert.domains", "a.example.test,v10.example.test"}, {"sidecert.name", "a"}},
                           std::chrono::seconds(6));
  settled.upSince = kNow + std::chrono::seconds(14);
  auto plan = reconcile(desiredSet({settled}, s, {}, {{"a", entries.at("a").values}}, kNow + std::chrono::seconds(20)),
                        entries, kNow + std::chrono::seconds(20), std::chrono::hours(1));
  EXPECT_EQ(plan.change, std::vector<std::string>{"a"});
}

TEST(DiscoverDesired, TwoContainersAskingForOneNameTheOneUpLongestWinsAtEveryRead) {
  auto s = discoverySettings();
  auto older = container("zzz", {{"sidecert.domains", "a.example.test"}}, std::chrono::seconds(600));
  auto newer = container("aaa", {{"sidecert.domains", "b.example.test,a.example.test"}}, std::chrono::seconds(60));
  for (const auto& order : {std::vector<Workload>{older, newer}, std::vector<Workload>{newer, older}}) {
    auto d = desiredSet(order, s, {}, {}, kNow);
    ASSERT_EQ(d.lineages.size(), 1u);
    EXPECT_EQ(d.lineages.begin()->second.origin, older.describe());
    EXPECT_TRUE(refusedWith(d, "c-aaa", "'a.example.test', which container c-zzz"));
  }
}

TEST(DiscoverDesired, TheConfiguredLineagesNamesAndFoldersAreNotTaken) {
  auto s = discoverySettings();
  CertificateSpec configured;
  configured.name = "api";
  configured.domains = {"api.example.test"};
  auto d = desiredSet({container("c1", {{"sidecert.domains", "api.example.test"}, {"sidecert.name", "other"}}),
                       container("c2", {{"sidecert.domains", "x.example.test"}, {"sidecert.name", "api"}})},
                      s, takenBy({configured}), {}, kNow);
  EXPECT_TRUE(d.lineages.empty());
  EXPECT_TRUE(refusedWith(d, "c-c1", "the configured certificates"));
  EXPECT_TRUE(refusedWith(d, "c-c2", "a configured certificate already has"));
}

TEST(DiscoverDesired, AStoppedContainerAsksForNothing) {
  auto stopped = container("s1", {{"sidecert.domains", "s.example.test"}});
  stopped.running = false;
  EXPECT_TRUE(desiredSet({stopped}, discoverySettings(), {}, {}, kNow).lineages.empty());
}

TEST(DiscoverDesired, AcmeCompanionsEmailIsTheAccountContactAndAContainersOwnIsSaidToBeUnused) {
  auto s = loadSettings(std::nullopt,
                        {{"SIDECERT_DISCOVER", "docker"}, {"SIDECERT_DISCOVER_ALLOW", "*"},
                         {"SIDECERT_ACME_DIRECTORY", "none"}, {"DEFAULT_EMAIL", "ops@example.test"}},
                        "host-1");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->email, "ops@example.test");
  auto same = container("same1", {});
  same.env = {{"LETSENCRYPT_HOST", "a.example.test"}, {"LETSENCRYPT_EMAIL", "ops@example.test"}};
  auto other = container("other1", {{"LETSENCRYPT_HOST", "b.example.test"}, {"LETSENCRYPT_EMAIL", "dev@example.test"}});
  auto d = desiredSet({same, other}, *s, {}, {}, kNow);
  EXPECT_EQ(d.lineages.size(), 2u);
  ASSERT_EQ(d.notes.size(), 1u);
  EXPECT_EQ(d.notes[0].workload, other.describe());
  EXPECT_NE(d.notes[0].reason.find("dev@example.test is not used"), std::string::npos);
}
