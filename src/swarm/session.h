#pragma once
// One sidecert's standing in a swarm: who it is (its service and task), the key
// that seals what it keeps in configs, and the lease that lets exactly one
// sidecert of a scope act. The sealing key is a secret sidecert makes once and
// gives its own service: the first start adds it, and swarm replaces the task
// with one that has it at /run/secrets/sidecert-seal.
#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "core/clock.h"
#include "swarm/api.h"
#include "swarm/lease.h"
#include "swarm/set_store.h"

namespace sc::swarm {

class Session {
 public:
  Session(net::DockerEngine& engine, std::string containerId, std::string sealPath, const TimeSource& clock);

  enum class Start { Ready, Restarting };
  // Ready: identity and sealing key known. Restarting: the key was just given
  // to our service; swarm replaces this task with one that has it.
  Result<Start> start();
  // Takes the lease, or extends ours. False with `waitReason` when another task
  // holds it; an error when the swarm could not be asked or refused.
  Result<bool> holdLease(std::string& waitReason);
  // OK while the lease is ours and not close to its end.
  Status mayAct() const;
  TimePoint leaseEnds() const;

  // A service as the settings name it: the one in sidecert's own stack first.
  Result<Service> serviceNamed(const std::string& name);

  SwarmApi& api() { return api_; }
  const TimeSource& clock() const { return clock_; }
  SetStore& store() { return *store_; }
  const Identity& identity() const { return identity_; }

 private:
  Status mountSeal();
  SwarmApi api_;
  std::string containerId_;
  std::string sealPath_;
  const TimeSource& clock_;
  Identity identity_;
  std::unique_ptr<SetStore> store_;
  std::atomic<std::int64_t> leaseEndsMs_{0};
};

}  // namespace sc::swarm
