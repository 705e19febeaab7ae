#pragma once
#include <string>
#include <vector>

#include "net/docker_engine.h"
#include "reload/reloader.h"

namespace sc::reload {

using net::DockerEngine;
using net::EngineReply;

// For gateways that read certificates only at start (Express Gateway), or that
// reload on a command of their own (Caddy).
// docker-restart: restarts the service of that name in sidecert's own compose
//   project, else the container of that name.
// docker-exec: runs a program in each of those containers, as `docker exec`
//   does, and fails on its exit status; its output is logged.
// docker-service: force-updates the swarm service of that name in sidecert's own
//   stack, else the service of that name — what "update the service" in
//   Portainer does.
// sidecert finds its own container by its hostname, which Docker sets to the
// container's ID.
class DockerReloader final : public Reloader {
 public:
  enum class Mode { RestartContainer, UpdateService, Exec };
  // argv: Exec's program and arguments
  DockerReloader(DockerEngine& engine, Mode mode, std::string target, std::string selfId,
                 std::vector<std::string> argv = {});
  Status reload(const ReloadEvent& event) override;
  std::string describe() const override;

 private:
  Result<std::vector<std::string>> composeContainers();
  Status restartContainers();
  Result<std::string> createExec(const std::string& container);
  Result<int> exitCodeOf(const std::string& execId);
  Status execIn(const std::string& container);
  Status updateService();
  std::string ownLabel(const std::string& label);
  DockerEngine& engine_;
  Mode mode_;
  std::string target_;
  std::string selfId_;
  std::vector<std::string> argv_;
};

}  // namespace sc::reload
