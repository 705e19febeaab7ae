#pragma once
// Pure edits of a service's spec (the engine's JSON): which secrets and configs
// its tasks get, where; and which objects a spec still names.
#include <set>
#include <string>
#include <vector>

#include <Poco/JSON/Object.h>

#include "swarm/objects.h"

namespace sc::swarm {

struct Mount {
  Kind kind = Kind::Config;
  std::string id;
  std::string name;
  std::string target;  // an absolute path in the task's container, or a name under /run/secrets
  unsigned uid = 0;
  unsigned gid = 0;
  unsigned mode = 0444;
};

// In TaskTemplate.ContainerSpec's Secrets and Configs, the entries whose name
// starts with `prefix`, or whose target is one of the mounts' targets, make way
// for `mounts`; others stay as they are. False when the spec already had exactly
// these (nothing to update, no tasks restarted).
bool mountInto(Poco::JSON::Object& spec, const std::string& prefix, const std::vector<Mount>& mounts);

// The names of the secrets and configs a spec gives its tasks.
std::set<std::string> namesIn(const Poco::JSON::Object::Ptr& spec);

// Sets label `key` of the spec (the service's own labels, which restart no task).
void setLabel(Poco::JSON::Object& spec, const std::string& key, const std::string& value);

// Of a lineage's objects, those to remove: every one that no service names (in
// its Spec or its PreviousSpec: `docker service rollback` needs the latter,
// moby/swarmkit#2509) and that is not of the newest generation; of the sealed
// sets, all but the newest.
std::vector<StoredObject> obsolete(const std::vector<StoredObject>& ours, const std::set<std::string>& referenced,
                                   int newestGeneration);

}  // namespace sc::swarm
