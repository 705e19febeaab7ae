#pragma once
#include <chrono>
#include <vector>

#include "reload/reloader.h"

namespace sc::reload {

// Runs argv directly (fork+exec, no shell), in its own process group, with no
// descriptor of sidecert's but stdin/stdout/stderr and only the environment
// childEnvironment() gives, never a secret of sidecert's; killed
// whole if it outlives `timeout`, or at once when `stopFd` (-1: none) becomes
// readable: SIGTERM is not held up by a slow command, and the reload stays due.
// Its output goes to the log, line by line.
// PATH, and SIDECERT_NAME, SIDECERT_LIVE and SIDECERT_SOURCE from the event.
std::vector<std::string> childEnvironment(const ReloadEvent& event);

class CommandReloader final : public Reloader {
 public:
  CommandReloader(std::vector<std::string> argv, std::chrono::seconds timeout, int stopFd = -1);
  Status reload(const ReloadEvent& event) override;
  std::string describe() const override;

 private:
  std::vector<std::string> argv_;
  std::chrono::seconds timeout_;
  int stopFd_;
};

}  // namespace sc::reload
