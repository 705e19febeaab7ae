#pragma once
#include <chrono>
#include <vector>

#include "reload/reloader.h"

namespace sc::reload {

// Runs argv directly (fork+exec, no shell), in its own process group, killed
// whole if it outlives `timeout`. Its output goes to the log, line by line.
class CommandReloader final : public Reloader {
 public:
  CommandReloader(std::vector<std::string> argv, std::chrono::seconds timeout);
  Status reload() override;
  std::string describe() const override;

 private:
  std::vector<std::string> argv_;
  std::chrono::seconds timeout_;
};

}  // namespace sc::reload
