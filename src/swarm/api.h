#pragma once
// The part of the Docker Engine API that swarm mode uses, typed: secrets and
// configs, services, tasks, and sidecert's own container. Every reply is
// hostile input: a field of the wrong type or a body that does not parse is an
// error that names the call, never a crash.
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <Poco/JSON/Object.h>

#include "core/clock.h"
#include "core/result.h"
#include "net/docker_engine.h"
#include "swarm/objects.h"

namespace sc::swarm {

struct Service {
  std::string id;
  std::string name;
  std::uint64_t version = 0;
  Poco::JSON::Object::Ptr spec;          // never null
  Poco::JSON::Object::Ptr previousSpec;  // null when there is none
  std::map<std::string, std::string> labels;
  // The last rollout, as the managers report it: "updating", "completed",
  // "paused", "rollback_started", "rollback_completed"...; "" when none yet.
  std::string updateState;
  std::optional<TimePoint> updateStartedAt;
  std::string updateMessage;
};

// A task as its node reports it, and its address on each network it is attached to.
struct Task {
  std::string id;
  std::string nodeId;
  std::string state;                             // Status.State: "running", "starting", "shutdown"...
  std::map<std::string, std::string> addresses;  // network ID -> IP address, without the prefix length
  bool ended() const { return state == "shutdown" || state == "complete" || state == "failed" || state == "rejected"; }
};

// The port inside a service's tasks that its published port `published` leads
// to; none when the service publishes no such port.
std::optional<int> targetPort(const Service& service, int published);

// Who this process is in the swarm, from its own container's labels.
struct Identity {
  std::string serviceId;
  std::string serviceName;
  std::string taskId;
  std::string stack;  // com.docker.stack.namespace, "" outside a stack
};

class SwarmApi {
 public:
  explicit SwarmApi(net::DockerEngine& engine) : engine_(engine) {}
  // Those whose labels include every one given.
  Result<std::vector<StoredObject>> list(Kind kind, const std::map<std::string, std::string>& labels);
  // The new object's ID; when one of that name exists, its ID (created=false).
  Result<std::string> create(Kind kind, const std::string& name, const std::map<std::string, std::string>& labels,
                             const std::string& data, bool* created = nullptr);
  Status remove(Kind kind, const std::string& id);  // one already gone is no failure
  // NotFound when there is no such service.
  Result<Service> service(const std::string& nameOrId);
  Result<std::vector<Service>> services();
  // Refused (ErrorKind::Conflict) when the service changed since `service.version`.
  Status update(const Service& service, const Poco::JSON::Object& spec);
  // Reads the service, lets `change` edit its spec, and writes it back naming the
  // version read; when someone else wrote in between, reads and edits again, 4
  // times at most, then ErrorKind::Conflict. `change` returns false when nothing
  // is to be written (edit returns false then), or an error that ends the edit.
  Result<bool> edit(const std::string& nameOrId, const std::function<Result<bool>(Service&)>& change);
  // Whether that task has ended as its node reported (shutdown, complete, failed,
  // rejected), or the swarm no longer knows it.
  Result<bool> taskEnded(const std::string& taskId);
  // NotFound when the swarm no longer knows it.
  Result<Task> task(const std::string& taskId);
  // The tasks of a service (name or ID) that the swarm wants running.
  Result<std::vector<Task>> tasksOf(const std::string& service);
  Result<Identity> identify(const std::string& containerId);

 private:
  Result<net::EngineReply> call(const std::string& method, const std::string& path, const std::string& body,
                                const std::string& what);
  net::DockerEngine& engine_;
};

}  // namespace sc::swarm
