#pragma once
// What `run` does before and beside its passes when a lineage's reload action is
// swarm:SERVICE (README, "On a swarm of several nodes"): find itself and the
// sealing key, wait for the lease, put in its volume what the swarm's store holds
// (sets and account keys), then keep the lease while the passes run, point the
// gateway service at its set again when its spec lost it, and copy new account
// keys into the store.
#include <atomic>
#include <set>
#include <thread>

#include "app/wiring.h"

namespace sc::app {

class SwarmCoordinator {
 public:
  SwarmCoordinator(Runtime& rt, const TimeSource& time);
  ~SwarmCoordinator();

  enum class Outcome { Ready, Stop, Failed };
  // Returns once this sidecert holds the lease and has restored what the swarm
  // holds (Ready), when told to stop, or on a failure that a restart may mend.
  Outcome begin();
  // After each pass: account keys made since go into the store.
  void afterPass();
  // The lease could not be kept: the process stopped itself, and exits 1 so that
  // swarm starts it again (it then waits for the lease like any newcomer).
  bool leaseLost() const { return lost_.load(); }

 private:
  bool waitForLease();
  void restoreAccounts();
  void restoreSets();
  void keepLease();
  void repointServices();
  Runtime& rt_;
  const TimeSource& time_;
  swarm::Session& session_;
  std::set<std::string> accountsStored_;
  std::atomic<bool> lost_{false};
  std::thread keeper_;
};

}  // namespace sc::app
