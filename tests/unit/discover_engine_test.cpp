// What discovery reads from the engine: the engine's answers are hostile input.
#include <gtest/gtest.h>

#include "discover/engine_reader.h"

using namespace sc;
using namespace sc::discover;

namespace {

// Answers by path, and counts the calls.
class ScriptedEngine : public net::DockerEngine {
 public:
  std::map<std::string, net::EngineReply> replies;
  std::map<std::string, int> calls;
  Result<net::EngineReply> call(const std::string&, const std::string& path, const std::string&) override {
    ++calls[path];
    auto it = replies.find(path);
    if (it == replies.end()) return net::EngineReply{404, R"({"message":"No such container"})"};
    return it->second;
  }
};

std::string inspectOf(const std::string& env, const std::string& started = "2026-12-06T10:00:00.123456789Z") {
  return R"({"Config": {"Env": )" + env + R"(}, "State": {"Running": true, "StartedAt": ")" + started + R"("}})";
}

}  // namespace

TEST(DiscoverEngine, ContainersAreReadWithTheirLabelsAndOnlyTheVariablesDiscoveryReads) {
  ScriptedEngine engine;
  engine.replies["/containers/json"] = {200, R"([
    {"Id": "abc123", "Names": ["/web-1"], "State": "running", "Labels": {"sidecert.domains": "w.test"}},
    {"Id": "def456", "Names": ["/app"], "State": "running", "Labels": {}}])"};
  engine.replies["/containers/abc123/json"] = {200, inspectOf(R"(["PATH=/bin"])")};
  engine.replies["/containers/def456/json"] = {200, inspectOf(R"(["LETSENCRYPT_HOST=a.test", "DB_PASSWORD=hunter2"])")};
  EngineReader reader(engine, DiscoverSettings::Mode::Docker);
  auto r = reader.readAll();
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->workloads.size(), 2u);
  EXPECT_EQ(r->workloads[0].name, "web-1");
  EXPECT_EQ(r->workloads[0].labels.at("sidecert.domains"), "w.test");
  EXPECT_EQ(r->workloads[1].env, (std::map<std::string, std::string>{{"LETSENCRYPT_HOST", "a.test"}}));
  ASSERT_TRUE(r->workloads[1].upSince);
  // Each container is looked at once while it runs, not at every read.
  ASSERT_TRUE(reader.readAll());
  EXPECT_EQ(engine.calls["/containers/abc123/json"], 1);
  // Once it no longer runs it is forgotten: a restart is looked at again.
  engine.replies["/containers/json"] = {200, "[]"};
  ASSERT_TRUE(reader.readAll());
  engine.replies["/containers/json"] = {200, R"([{"Id": "abc123", "Names": ["/web-1"], "State": "running"}])"};
  ASSERT_TRUE(reader.readAll());
  EXPECT_EQ(engine.calls["/containers/abc123/json"], 2);
}

TEST(DiscoverEngine, AnswersOfTheWrongShapeAreErrorsNamingTheCallOrSkipOneContainer) {
  ScriptedEngine engine;
  EngineReader reader(engine, DiscoverSettings::Mode::Docker);
  for (const std::string bad : {"", "not json", R"({"Id": "x"})", R"([{"Id": "abc", "Labels": {"sidecert.domains": )"}) {
    engine.replies["/containers/json"] = {200, bad};
    auto r = reader.readAll();
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().message.find("GET /containers/json"), std::string::npos) << r.error().message;
  }
  engine.replies["/containers/json"] = {500, R"({"message": "bad day"})"};
  auto refused = reader.readAll();
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("HTTP 500: bad day"), std::string::npos);

  std::string many = "{";
  for (int i = 0; i < 600; ++i) many += (i ? "," : "") + std::string("\"l") + std::to_string(i) + "\": \"v\"";
  many += "}";
  engine.replies["/containers/json"] = {200, R"([
    7, {"Id": "../../etc", "State": "running"},
    {"Id": "num1", "State": "running", "Labels": {"sidecert.domains": 5}},
    {"Id": "many1", "State": "running", "Labels": )" + many + R"(},
    {"Id": "gone1", "Names": ["/gone"], "State": "running"},
    {"Id": "good1", "Names": ["/good"], "State": "running"}])"};
  engine.replies["/containers/good1/json"] = {200, inspectOf("[]")};
  auto r = reader.readAll();
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->workloads.size(), 1u);
  EXPECT_EQ(r->workloads[0].name, "good");
  EXPECT_EQ(r->problems.size(), 5u);
}

TEST(DiscoverEngine, ServicesCarryTheirDeployLabelsOverTheirContainersLabels) {
  ScriptedEngine engine;
  engine.replies["/services"] = {200, R"([{"ID": "svc1", "UpdatedAt": "2026-12-06T10:00:00Z",
      "Spec": {"Name": "api", "Labels": {"sidecert.domains": "api.test"},
               "TaskTemplate": {"ContainerSpec": {"Labels": {"sidecert.domains": "old.test", "sidecert.key_type": "rsa2048"},
                                                  "Env": ["LETSENCRYPT_HOST=x.test"]}}}}])"};
  EngineReader reader(engine, DiscoverSettings::Mode::Swarm);
  auto r = reader.readAll();
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->workloads.size(), 1u);
  const auto& w = r->workloads[0];
  EXPECT_EQ(w.kind, Workload::Kind::Service);
  EXPECT_EQ(w.labels.at("sidecert.domains"), "api.test");
  EXPECT_EQ(w.labels.at("sidecert.key_type"), "rsa2048");
  EXPECT_EQ(w.env.at("LETSENCRYPT_HOST"), "x.test");
  EXPECT_EQ(w.describe(), "service api (svc1)");
  EXPECT_TRUE(w.running && w.upSince);
}
