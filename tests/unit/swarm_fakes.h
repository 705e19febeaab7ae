#pragma once
// Fakes shared by the swarm_*_test.cpp files: an engine that keeps secrets, configs,
// services and tasks in memory and behaves as a manager does where it matters:
// names are unique, secret data is never given back, an update naming a stale
// version is refused, and a secret a service's Spec names cannot be removed.
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>
#include <Poco/URI.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

#include "crypto/encoding.h"
#include "reload/reloader.h"
#include "sources/self_signed_source.h"
#include "swarm/publisher.h"
#include "swarm/session.h"
#include "swarm/spec_edit.h"
#include "test_support.h"

namespace swarm_fakes {

using namespace sc;
using namespace sc::swarm;
using Poco::JSON::Object;

inline std::string toJson(const Poco::Dynamic::Var& v) {
  std::ostringstream out;
  Poco::JSON::Stringifier::stringify(v, out);
  return out.str();
}

inline Object::Ptr parse(const std::string& s) { return Poco::JSON::Parser().parse(s).extract<Object::Ptr>(); }

class FakeSwarm : public net::DockerEngine {
 public:
  struct Obj {
    std::string name;
    Object::Ptr labels;
    std::string data;
  };
  struct Svc {
    std::string name;
    std::uint64_t version = 10;
    std::string spec, previous;
  };
  std::map<std::string, Obj> secrets, configs;
  std::map<std::string, Svc> services;
  std::map<std::string, std::string> tasks;       // id -> desired state
  struct TaskPlace {
    std::string service, node, attachments;  // attachments: NetworksAttachments as JSON
  };
  std::map<std::string, TaskPlace> places;        // id -> where a task runs (tasks without one: nowhere)
  std::map<std::string, std::string> containers;  // id -> its Config.Labels as JSON
  int updates = 0;
  std::string rollout = "completed";  // what an update ends as
  int racers = 0;  // updates someone else slips in before ours, one per attempt
  int next = 1;
  std::string hostile;  // a path prefix answered with garbage

  FakeSwarm() {
    services["svc-gw"] = {"demo_gw", 10, R"({"Name":"demo_gw","TaskTemplate":{"ContainerSpec":{"Image":"gw",
      "Configs":[{"File":{"Name":"/etc/gw.conf"},"ConfigID":"u1","ConfigName":"users-own"}]}}})", ""};
    services["svc-sc"] = {"demo_sidecert", 10, R"({"Name":"demo_sidecert","Labels":{"keep":"me"},
      "TaskTemplate":{"ContainerSpec":{"Image":"sidecert"}}})", ""};
    tasks["task-a"] = "running";
    tasks["task-b"] = "running";
    for (auto t : {"a", "b"})
      containers[std::string("box-") + t] = std::string(R"({"com.docker.swarm.service.id":"svc-sc",
        "com.docker.swarm.service.name":"demo_sidecert","com.docker.stack.namespace":"demo",
        "com.docker.swarm.task.id":"task-)") + t + "\"}";
  }

  Svc* service(const std::string& key) {
    if (services.count(key)) return &services[key];
    for (auto& [id, s] : services)
      if (s.name == key) return &s;
    return nullptr;
  }
  std::string serviceJson(const std::string& id, const Svc& s) {
    std::string out = R"({"ID":")" + id + R"(","Version":{"Index":)" + std::to_string(s.version) + R"(},"Spec":)" + s.spec;
    if (s.version > 10)
      out += R"(,"UpdateStatus":{"State":")" + rollout + R"(","StartedAt":"2099-01-01T00:00:00.123456789Z","Message":"update )" + rollout + "\"}";
    if (!s.previous.empty()) out += R"(,"PreviousSpec":)" + s.previous;
    return out + "}";
  }
  std::string taskJson(const std::string& id) {
    std::string out = R"({"ID":")" + id + R"(","Status":{"State":")" + tasks[id] + "\"}";
    if (places.count(id))
      out += R"(,"NodeID":")" + places[id].node + R"(","NetworksAttachments":)" + places[id].attachments;
    return out + "}";
  }
  bool referenced(const std::string& name) {
    for (auto& [id, s] : services)
      if (namesIn(parse(s.spec)).count(name)) return true;
    return false;
  }


  Result<net::EngineReply> call(const std::string& method, const std::string& path, const std::string& body) override {
    if (!hostile.empty() && path.rfind(hostile, 0) == 0) return net::EngineReply{200, R"({"ID": [1,2], "Spec": 7)"};
    for (auto [plural, store] : {std::pair{"/secrets", &secrets}, std::pair{"/configs", &configs}})
      if (auto reply = objectCall(plural, *store, method, path, body)) return *reply;
    if (auto reply = serviceCall(method, path, body)) return *reply;
    if (auto reply = taskCall(path)) return *reply;
    if (path.rfind("/containers/", 0) == 0) {
      auto id = path.substr(12, path.find("/json") - 12);
      if (!containers.count(id)) return net::EngineReply{404, R"({"message":"no such container"})"};
      return net::EngineReply{200, R"({"Id":")" + id + R"(","Config":{"Labels":)" + containers[id] + "}}"};
    }
    return net::EngineReply{404, R"({"message":"page not found"})"};
  }

 private:
  // /secrets and /configs: list, create (names unique), delete (not while a service names it).
  std::optional<net::EngineReply> objectCall(const std::string& p, std::map<std::string, Obj>& store,
                                             const std::string& method, const std::string& path,
                                             const std::string& body) {
    if (method == "GET" && path.rfind(p + "?", 0) == 0) {
      Poco::JSON::Array list;
      for (auto& [id, o] : store) {
        Object::Ptr spec = new Object;
        spec->set("Name", o.name);
        spec->set("Labels", o.labels);
        if (&store == &configs) spec->set("Data", crypto::base64(o.data));
        Object::Ptr e = new Object;
        e->set("ID", id);
        e->set("Spec", spec);
        list.add(e);
      }
      return net::EngineReply{200, toJson(list)};
    }
    if (method == "POST" && path == p + "/create") {
      auto spec = parse(body);
      auto name = spec->getValue<std::string>("Name");
      for (auto& [id, o] : store)
        if (o.name == name) return net::EngineReply{409, R"({"message":"name conflicts with an existing object"})"};
      std::string id = "id" + std::to_string(next++);
      store[id] = {name, spec->getObject("Labels"), *crypto::base64Decode(spec->getValue<std::string>("Data"))};
      return net::EngineReply{201, R"({"ID":")" + id + "\"}"};
    }
    if (method == "DELETE" && path.rfind(p + "/", 0) == 0) {
      auto id = path.substr(p.size() + 1);
      if (!store.count(id)) return net::EngineReply{404, R"({"message":"not found"})"};
      if (referenced(store[id].name)) return net::EngineReply{400, R"({"message":"in use by a service"})"};
      store.erase(id);
      return net::EngineReply{204, ""};
    }
    return std::nullopt;
  }

  // /services: list, inspect, and update naming the version it read (racers slip in first).
  std::optional<net::EngineReply> serviceCall(const std::string& method, const std::string& path,
                                              const std::string& body) {
    if (method == "GET" && path == "/services") {
      std::string out = "[";
      for (auto& [id, s] : services) out += (out.size() > 1 ? "," : "") + serviceJson(id, s);
      return net::EngineReply{200, out + "]"};
    }
    if (path.rfind("/services/", 0) != 0) return std::nullopt;
    auto rest = path.substr(10);
    auto slash = rest.find('/');
    auto* s = service(rest.substr(0, slash));
    if (!s) return net::EngineReply{404, R"({"message":"service not found"})"};
    if (method == "GET") return net::EngineReply{200, serviceJson(rest.substr(0, slash), *s)};
    if (racers > 0) {  // another writer got there first
      --racers;
      ++s->version;
    }
    auto version = std::stoull(rest.substr(rest.find("version=") + 8));
    if (version != s->version) return net::EngineReply{500, R"({"message":"rpc error: update out of sequence"})"};
    s->previous = s->spec;
    s->spec = body;
    ++s->version;
    ++updates;
    return net::EngineReply{200, R"({"Warnings":null})"};
  }

  // /tasks/ID, and /tasks?filters= for a service's running tasks.
  std::optional<net::EngineReply> taskCall(const std::string& path) {
    if (path.rfind("/tasks/", 0) == 0) {
      auto id = path.substr(7);
      if (!tasks.count(id)) return net::EngineReply{404, R"({"message":"no such task"})"};
      return net::EngineReply{200, taskJson(id)};
    }
    if (path.rfind("/tasks?filters=", 0) != 0) return std::nullopt;
    std::string query;
    Poco::URI::decode(path.substr(15), query);
    auto filters = parse(query);
    auto name = filters->getArray("service")->getElement<std::string>(0);  // a name or an ID
    EXPECT_EQ(filters->getArray("desired-state")->getElement<std::string>(0), "running");
    std::string list;
    for (auto& [id, place] : places)
      if (service(place.service) == this->service(name)) list += (list.empty() ? "" : ",") + taskJson(id);
    return net::EngineReply{200, "[" + list + "]"};
  }
};

class StepClock : public TimeSource {
 public:
  TimePoint t = TimePoint(std::chrono::seconds(1'800'000'000));
  TimePoint now() const override { return t; }
};

inline store::CertFiles newSet(const std::string& name = "example.test") {
  sources::SelfSignedSource source;
  sources::Request r;
  r.lineage = "aiotes";
  r.names = {name};
  return source.obtain(r, wallClockNow())->files;
}

// A session for task `t` ("a" or "b"), its sealing key in a file.
struct Node {
  TempDir dir;
  StepClock clock;
  std::unique_ptr<Session> session;
  Node(FakeSwarm& swarm, const std::string& t, const std::string& key = std::string(32, 'k')) {
    dir.write("seal", key);
    session = std::make_unique<Session>(swarm, "box-" + t, dir.path("seal"), clock);
  }
  // Started, holding the lease, a new live set.
  void lead() {
    ASSERT_EQ(*session->start(), Session::Start::Ready);
    std::string why;
    ASSERT_TRUE(*session->holdLease(why));
    writeLive();
  }
  void writeLive() { live = newSet(); }
  // what the lineage read and judged: the publisher reads nothing from the volume
  reload::ReloadEvent event() { return {"aiotes", dir.path("live/aiotes"), "acme", live}; }
  store::CertFiles live;
};

inline PublishTarget fastTarget(const std::string& service = "gw") {
  PublishTarget t{service};
  t.rolloutPoll = std::chrono::milliseconds(1);
  return t;
}

}  // namespace swarm_fakes
