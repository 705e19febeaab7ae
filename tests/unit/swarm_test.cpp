// Swarm mode against an engine that keeps secrets, configs, services and tasks
// in memory and behaves as a manager does where it matters: names are unique,
// secret data is never given back, an update naming a stale version is refused,
// and a secret a service's Spec names cannot be removed.
#include <gtest/gtest.h>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>
#include <Poco/URI.h>

#include <fstream>
#include <iterator>
#include <map>
#include <sstream>

#include "crypto/encoding.h"
#include "crypto/seal.h"
#include "sources/self_signed_source.h"
#include "log/log.h"
#include "swarm/gateway_check.h"
#include "swarm/lease.h"
#include "swarm/publisher.h"
#include "swarm/restore.h"
#include "swarm/session.h"
#include "swarm/spec_edit.h"
#include "test_support.h"

using namespace sc;
using namespace sc::swarm;
using Poco::JSON::Object;

namespace {

std::string toJson(const Poco::Dynamic::Var& v) {
  std::ostringstream out;
  Poco::JSON::Stringifier::stringify(v, out);
  return out.str();
}

Object::Ptr parse(const std::string& s) { return Poco::JSON::Parser().parse(s).extract<Object::Ptr>(); }

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
    for (auto [plural, store] : {std::pair{"/secrets", &secrets}, std::pair{"/configs", &configs}}) {
      std::string p(plural);
      if (method == "GET" && path.rfind(p + "?", 0) == 0) {
        Poco::JSON::Array list;
        for (auto& [id, o] : *store) {
          Object::Ptr spec = new Object;
          spec->set("Name", o.name);
          spec->set("Labels", o.labels);
          if (store == &configs) spec->set("Data", crypto::base64(o.data));
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
        for (auto& [id, o] : *store)
          if (o.name == name) return net::EngineReply{409, R"({"message":"name conflicts with an existing object"})"};
        std::string id = "id" + std::to_string(next++);
        (*store)[id] = {name, spec->getObject("Labels"), *crypto::base64Decode(spec->getValue<std::string>("Data"))};
        return net::EngineReply{201, R"({"ID":")" + id + "\"}"};
      }
      if (method == "DELETE" && path.rfind(p + "/", 0) == 0) {
        auto id = path.substr(p.size() + 1);
        if (!store->count(id)) return net::EngineReply{404, R"({"message":"not found"})"};
        if (referenced((*store)[id].name)) return net::EngineReply{400, R"({"message":"in use by a service"})"};
        store->erase(id);
        return net::EngineReply{204, ""};
      }
    }
    if (method == "GET" && path == "/services") {
      std::string out = "[";
      for (auto& [id, s] : services) out += (out.size() > 1 ? "," : "") + serviceJson(id, s);
      return net::EngineReply{200, out + "]"};
    }
    if (path.rfind("/services/", 0) == 0) {
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
    if (path.rfind("/tasks/", 0) == 0) {
      auto id = path.substr(7);
      if (!tasks.count(id)) return net::EngineReply{404, R"({"message":"no such task"})"};
      return net::EngineReply{200, taskJson(id)};
    }
    if (path.rfind("/tasks?filters=", 0) == 0) {
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
    if (path.rfind("/containers/", 0) == 0) {
      auto id = path.substr(12, path.find("/json") - 12);
      if (!containers.count(id)) return net::EngineReply{404, R"({"message":"no such container"})"};
      return net::EngineReply{200, R"({"Id":")" + id + R"(","Config":{"Labels":)" + containers[id] + "}}"};
    }
    return net::EngineReply{404, R"({"message":"page not found"})"};
  }
};

class StepClock : public TimeSource {
 public:
  TimePoint t = TimePoint(std::chrono::seconds(1'800'000'000));
  TimePoint now() const override { return t; }
};

store::CertFiles newSet(const std::string& name = "example.test") {
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

PublishTarget fastTarget(const std::string& service = "gw") {
  PublishTarget t{service};
  t.rolloutPoll = std::chrono::milliseconds(1);
  return t;
}

}  // namespace

TEST(Seal, OpensOnlyWithTheSameKeyBytesAndContext) {
  std::string key(32, 'x');
  auto box = crypto::seal(key, "a private key", "lineage a, generation 3");
  ASSERT_TRUE(box);
  EXPECT_EQ(*crypto::unseal(key, *box, "lineage a, generation 3"), "a private key");
  EXPECT_FALSE(crypto::unseal(std::string(32, 'y'), *box, "lineage a, generation 3"));
  EXPECT_FALSE(crypto::unseal(key, *box, "lineage a, generation 4"));
  auto changed = *box;
  changed[changed.size() / 2] ^= 1;
  EXPECT_FALSE(crypto::unseal(key, changed, "lineage a, generation 3"));
  EXPECT_FALSE(crypto::unseal(key, box->substr(0, 10), "lineage a, generation 3"));
  EXPECT_FALSE(crypto::seal("short", "x", ""));
  EXPECT_NE(*crypto::seal(key, "same", ""), *crypto::seal(key, "same", ""));  // a fresh nonce each time
}

TEST(Lease, ParsedAndJudged) {
  TimePoint now(std::chrono::seconds(1000));
  EXPECT_FALSE(parseLease(""));
  EXPECT_FALSE(parseLease("task"));
  EXPECT_FALSE(parseLease("task 12x"));
  EXPECT_FALSE(parseLease(" 12"));
  auto l = parseLease(formatLease({"t1", now + std::chrono::seconds(30)}));
  ASSERT_TRUE(l);
  EXPECT_EQ(l->holder, "t1");
  EXPECT_TRUE(judgeLease(std::nullopt, "me", false, now).take);
  EXPECT_TRUE(judgeLease(l, "t1", false, now).take);                               // ours: extended
  EXPECT_FALSE(judgeLease(l, "me", false, now).take);                              // another's, running
  EXPECT_EQ(judgeLease(l, "me", false, now).askAgainAt, l->expires);
  EXPECT_TRUE(judgeLease(l, "me", true, now).take);                                // its task has ended
  EXPECT_TRUE(judgeLease(l, "me", false, now + std::chrono::seconds(30)).take);  // the lease ended
  EXPECT_TRUE(leaseValid(now + kLeaseFor, now));
  EXPECT_FALSE(leaseValid(now + kLeaseClockMargin, now));
}

TEST(SpecEdit, ReplacesOnlyWhatIsOursAndSaysWhenNothingChanged) {
  auto spec = parse(R"({"TaskTemplate":{"ContainerSpec":{
    "Secrets":[{"File":{"Name":"db"},"SecretID":"s0","SecretName":"users-db"},
               {"File":{"Name":"/c/live/a/privkey.pem"},"SecretID":"s1","SecretName":"sc-1-a-old-privkey"}],
    "Configs":[{"File":{"Name":"/c/live/a/cert.pem"},"ConfigID":"c9","ConfigName":"someone-elses"}]}}})");
  std::vector<Mount> mounts = {{Kind::Secret, "s2", "sc-1-a-new-privkey", "/c/live/a/privkey.pem", 0, 0, 0400},
                               {Kind::Config, "c2", "sc-1-a-new-cert", "/c/live/a/cert.pem", 0, 0, 0444}};
  EXPECT_TRUE(mountInto(*spec, "sc-1-a-", mounts));
  auto names = namesIn(spec);
  EXPECT_EQ(names, (std::set<std::string>{"users-db", "sc-1-a-new-privkey", "sc-1-a-new-cert"}));
  EXPECT_FALSE(mountInto(*spec, "sc-1-a-", mounts));
  auto secrets = spec->getObject("TaskTemplate")->getObject("ContainerSpec")->getArray("Secrets");
  EXPECT_EQ(secrets->getObject(1)->getObject("File")->getValue<int>("Mode"), 0400);
  EXPECT_EQ(secrets->getObject(1)->getObject("File")->getValue<std::string>("UID"), "0");
}

TEST(SpecEdit, ObsoleteKeepsWhatServicesNameAndTheNewest) {
  auto obj = [](const std::string& name, int gen, const std::string& role) {
    StoredObject o;
    o.name = name;
    o.labels = {{kLabelGeneration, std::to_string(gen)}, {kLabelRole, role}};
    return o;
  };
  std::vector<StoredObject> ours = {obj("k1", 1, "privkey.pem"), obj("k2", 2, "privkey.pem"),
                                    obj("k3", 3, "privkey.pem"), obj("s1", 1, "set"), obj("s2", 2, "set"),
                                    obj("s3", 3, "set"), obj("bad", -1, "privkey.pem")};
  std::vector<std::string> gone;
  for (const auto& o : obsolete(ours, {"k2"}, 3)) gone.push_back(o.name);
  EXPECT_EQ(gone, (std::vector<std::string>{"k1", "s1", "s2", "bad"}));
}

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

TEST(Session, AStaleWriteOfTheLeaseIsRefused) {
  FakeSwarm swarm;
  SwarmApi api(swarm);
  auto read = api.service("svc-sc");
  ASSERT_TRUE(read);
  ASSERT_TRUE(api.update(*read, *read->spec));
  auto stale = api.update(*read, *read->spec);
  ASSERT_FALSE(stale);
  EXPECT_TRUE(stale.error().is(ErrorKind::Conflict));
}

TEST(Session, AnEditReadsAgainAfterSomeoneElsesWriteAndGivesUpAfterFour) {
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
