#pragma once
// The reload action "swarm:SERVICE[:DIR]": the lineage's live set goes into the
// swarm's store as a generation (set_store.h), and SERVICE's tasks get it as
// secrets and configs at DIR/live/<name>/<file>, the paths a gateway reading the
// shared volume knows. Changing them is a service update: swarm rolls it over the
// tasks as the service's update_config says (one at a time, stop-first, in the
// stacks of deploy/), so replicas on every node take the set and never all at once.
// Generations no service names any more are removed afterwards.
#include <chrono>
#include <mutex>
#include <string>

#include "reload/reloader.h"
#include "swarm/session.h"

namespace sc::swarm {

struct PublishTarget {
  std::string service;  // as the settings name it; sidecert's stack's own first
  std::string dir = "/var/lib/certs";
  unsigned uid = 0, gid = 0;
  unsigned keyMode = 0400, certMode = 0444;
  std::chrono::milliseconds rolloutPoll{1000};  // how often the rollout is looked at
};

// How long a reload follows the rollout it began: a stand-in must be on the
// gateways before a CA checks a challenge through them. Past this, the rollout
// goes on by itself and the reload counts as done.
inline constexpr std::chrono::seconds kRolloutWait{180};

class SwarmPublisher final : public reload::Reloader {
 public:
  // The session is started (Session::start) before the first reload.
  SwarmPublisher(Session& session, PublishTarget target);
  Status reload(const reload::ReloadEvent& event) override;
  std::string describe() const override;
  // Points the service at the lineage's newest stored generation again if its
  // spec lost it (`docker stack deploy` run again resets the spec to the stack
  // file's); false when a reload is under way, or nothing had to change.
  Result<bool> repoint(const std::string& lineage);
  // HTTP-01 reaches sidecert through the gateway on whichever node the CA
  // picks, and the gateway cannot start before it has a set.
  bool tellsStandInFirst() const override { return true; }

 private:
  Result<Service> targetService();
  std::vector<Mount> mountsFor(const std::string& lineage, const Generation& g) const;
  // True when the service was updated (a rollout began).
  Result<bool> pointServiceAt(const std::string& lineage, const Generation& g);
  Status awaitRollout(const std::string& lineage, const Generation& g, TimePoint updatedAt);
  Session& session_;
  PublishTarget target_;
  std::mutex busy_;  // one reload or repoint at a time
};

}  // namespace sc::swarm
