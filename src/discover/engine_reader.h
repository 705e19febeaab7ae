#pragma once
// What discovery reads from the Docker Engine: the running containers of this
// engine, or the services of the swarm, each as a Workload. Every reply is
// hostile input: bounded (counts, sizes), typed, and an answer that does not
// have the shape of one is an error that names the call, never a crash.
#include <map>
#include <string>
#include <vector>

#include "config/settings.h"
#include "core/result.h"
#include "discover/workload.h"
#include "net/docker_engine.h"

namespace sc::discover {

// Bounds on one read; past them, the rest is left out and said so.
inline constexpr std::size_t kMaxWorkloads = 10000;
inline constexpr std::size_t kMaxLabels = 512;
inline constexpr std::size_t kMaxValueBytes = 4096;

struct Reading {
  std::vector<Workload> workloads;
  std::vector<std::string> problems;  // one line each: a workload skipped, and why
};

class EngineReader {
 public:
  EngineReader(net::DockerEngine& engine, DiscoverSettings::Mode mode) : engine_(engine), mode_(mode) {}
  Result<Reading> readAll();

 private:
  Result<Reading> readContainers();
  Result<Reading> readServices();
  // A container's environment and start time: read once per start (the list
  // does not carry them), forgotten once it no longer runs.
  struct Inspected {
    std::map<std::string, std::string> env;
    std::optional<TimePoint> startedAt;
  };
  Result<Inspected> inspect(const std::string& id);

  net::DockerEngine& engine_;
  DiscoverSettings::Mode mode_;
  std::map<std::string, Inspected> inspected_;
};

}  // namespace sc::discover
