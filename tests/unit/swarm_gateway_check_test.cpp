// Asking the gateway's tasks for the challenge as the CA would (src/swarm/gateway_check.cpp).
#include <gtest/gtest.h>

#include <algorithm>

#include "log/log.h"
#include "swarm/gateway_check.h"
#include "swarm_fakes.h"

using namespace swarm_fakes;

namespace {

// Gateway tasks as a CA reaches them: what each address and port answers, in turn.
class ScriptedProbe : public net::HttpProbe {
 public:
  std::map<std::string, std::vector<net::ProbeReply>> replies;  // "address:port" -> replies; the last repeats
  std::vector<std::string> asked;                              // "address:port host path"
  Result<net::ProbeReply> get(const std::string& address, int port, const std::string& host,
                              const std::string& path) override {
    std::string where = address + ":" + std::to_string(port);
    asked.push_back(where + " " + host + " " + path);
    auto it = replies.find(where);
    if (it == replies.end()) return fail("connect to " + where + ": Connection refused");
    int nth = static_cast<int>(std::count_if(asked.begin(), asked.end(),
                                             [&](const std::string& a) { return a.rfind(where + " ", 0) == 0; }));
    return it->second[std::min<std::size_t>(nth - 1, it->second.size() - 1)];
  }
  int count(const std::string& where) const {
    return static_cast<int>(std::count_if(asked.begin(), asked.end(),
                                          [&](const std::string& a) { return a.rfind(where + " ", 0) == 0; }));
  }
};

// Sleeps on the node's clock: patience is counted in rounds, not in real seconds.
class ClockSleeper : public acme::Sleeper {
 public:
  explicit ClockSleeper(StepClock& clock) : clock_(clock) {}
  void sleep(std::chrono::milliseconds d) override {
    clock_.t += d;
    ++sleeps;
    if (stopAfter && sleeps >= stopAfter) stopped = true;
  }
  bool cancelled() const override { return stopped; }
  int sleeps = 0, stopAfter = 0;
  bool stopped = false;

 private:
  StepClock& clock_;
};

std::string attachedTo(const std::string& overlayAddress) {
  return R"([{"Network":{"ID":"net-ingress"},"Addresses":["10.255.0.9/16"]},
             {"Network":{"ID":"net-stack"},"Addresses":[")" + overlayAddress + R"(/24"]}])";
}

// The gateway publishes 80 -> 8080 and 443 -> 8443; two of its tasks run, one
// starts; sidecert's task-a shares the stack's network with them.
struct GatewayCheckTest : ::testing::Test {
  FakeSwarm swarm;
  Node a{swarm, "a"};
  ScriptedProbe probe;
  ClockSleeper sleeper{a.clock};
  acme::PublishedChallenge challenge{"example.test", "tok-1", "tok-1.thumb"};

  void SetUp() override {
    swarm.services["svc-gw"].spec = R"({"Name":"demo_gw","TaskTemplate":{"ContainerSpec":{"Image":"gw"}},
      "EndpointSpec":{"Ports":[{"Protocol":"tcp","TargetPort":8443,"PublishedPort":443,"PublishMode":"host"},
                               {"Protocol":"tcp","TargetPort":8080,"PublishedPort":80,"PublishMode":"host"}]}})";
    swarm.places["task-a"] = {"svc-sc", "node-1", R"([{"Network":{"ID":"net-stack"},"Addresses":["10.0.1.2/24"]}])"};
    for (auto [id, node, address, state] : {std::tuple{"gw-1", "node-1", "10.0.1.5", "running"},
                                            std::tuple{"gw-2", "node-2", "10.0.1.6", "running"},
                                            std::tuple{"gw-3", "node-3", "10.0.1.7", "starting"}}) {
      swarm.tasks[id] = state;
      swarm.places[id] = {"svc-gw", node, attachedTo(address)};
    }
    ASSERT_EQ(*a.session->start(), Session::Start::Ready);
  }
  GatewayCheck check(std::chrono::seconds patience = std::chrono::seconds(120)) {
    return GatewayCheck(*a.session, "gw", probe, sleeper, {patience, std::chrono::milliseconds(1000)});
  }
};

net::ProbeReply answer(int status, const std::string& body) { return {status, body}; }

}  // namespace

TEST_F(GatewayCheckTest, EveryRunningGatewayTaskIsAskedAsTheCaWouldUntilItServesTheChallenge) {
  probe.replies["10.0.1.5:8080"] = {answer(200, "tok-1.thumb")};
  probe.replies["10.0.1.6:8080"] = {answer(502, "Bad gateway"), answer(502, "Bad gateway"), answer(200, "tok-1.thumb")};
  std::vector<std::string> logged;
  sc::log::captureForTests([&](const std::string& line) { logged.push_back(line); });
  auto ok = check().confirm({challenge});
  sc::log::captureForTests(nullptr);
  ASSERT_TRUE(ok) << ok.error().message;
  // on the network sidecert shares, at the port published 80 leads to; not the starting task
  EXPECT_EQ(probe.count("10.0.1.5:8080"), 1);  // served once, not asked again
  EXPECT_EQ(probe.count("10.0.1.6:8080"), 3);
  EXPECT_EQ(probe.asked.size(), 4u);
  EXPECT_EQ(probe.asked[0], "10.0.1.5:8080 example.test /.well-known/acme-challenge/tok-1");
  EXPECT_EQ(sleeper.sleeps, 2);
  std::string all;
  for (const auto& l : logged) all += l + "\n";
  EXPECT_NE(all.find("challenge_check_waiting"), std::string::npos) << all;
  EXPECT_NE(all.find("gw-2"), std::string::npos) << all;
  EXPECT_NE(all.find("HTTP 502"), std::string::npos) << all;
  EXPECT_NE(all.find("challenge_reachable"), std::string::npos) << all;
  EXPECT_NE(all.find("gateways=2"), std::string::npos) << all;
}

TEST_F(GatewayCheckTest, PastItsPatienceTheCheckFailsNamingTheTaskAndWhatItAnswered) {
  probe.replies["10.0.1.5:8080"] = {answer(200, "tok-1.thumb")};
  probe.replies["10.0.1.6:8080"] = {answer(200, "an error page")};
  auto ok = check(std::chrono::seconds(5)).confirm({challenge});
  ASSERT_FALSE(ok);
  EXPECT_TRUE(ok.error().is(ErrorKind::General));
  for (auto part : {"was not asked to validate example.test", "task gw-2 on node node-2 (10.0.1.6:8080)",
                    "another body than the key authorization", "kept for the next attempt"})
    EXPECT_NE(ok.error().message.find(part), std::string::npos) << part << " in: " << ok.error().message;
  EXPECT_EQ(ok.error().message.find("gw-1"), std::string::npos);  // the one that served is not blamed
  EXPECT_EQ(probe.count("10.0.1.6:8080"), 6);                      // at 0, 1 ... 5 s: bounded
}

TEST_F(GatewayCheckTest, AStopEndsTheWait) {
  probe.replies["10.0.1.5:8080"] = {answer(404, "")};
  probe.replies["10.0.1.6:8080"] = {answer(200, "tok-1.thumb")};
  sleeper.stopAfter = 2;
  auto ok = check().confirm({challenge});
  ASSERT_FALSE(ok);
  EXPECT_TRUE(ok.error().is(ErrorKind::Cancelled)) << ok.error().message;
  EXPECT_EQ(probe.count("10.0.1.5:8080"), 2);
}

TEST_F(GatewayCheckTest, WhatCannotBeCheckedIsNotWaitedFor) {
  // a task whose address is not an IP address is never dialled
  swarm.places["gw-2"].attachments = R"([{"Network":{"ID":"net-stack"},"Addresses":["evil.example/24"]}])";
  probe.replies["10.0.1.5:8080"] = {answer(200, "tok-1.thumb")};
  ASSERT_TRUE(check().confirm({challenge}));
  EXPECT_EQ(probe.asked.size(), 1u);
  // nothing published on 80, no network shared, an engine reply of the wrong shape:
  // the check says so and lets the CA decide, asking nobody
  probe.asked.clear();
  auto spec = swarm.services["svc-gw"].spec;
  swarm.services["svc-gw"].spec = R"({"Name":"demo_gw","EndpointSpec":{"Ports":[{"TargetPort":"x","PublishedPort":80}]}})";
  EXPECT_TRUE(check().confirm({challenge}));
  swarm.services["svc-gw"].spec = spec;
  swarm.places["task-a"].attachments = R"([{"Network":{"ID":"net-other"},"Addresses":["10.9.0.2/24"]}])";
  EXPECT_TRUE(check().confirm({challenge}));
  swarm.hostile = "/tasks";
  EXPECT_TRUE(check().confirm({challenge}));
  EXPECT_TRUE(probe.asked.empty());
  EXPECT_EQ(sleeper.sleeps, 0);
}
