#pragma once
#include <string>

#include "reload/reloader.h"

namespace sc::reload {

struct EngineReply {
  long status = 0;
  std::string body;
};

// The Docker Engine API, one request at a time: a unix socket in production, a
// script in tests. Paths are the API's ("/containers/x/restart?t=10").
class DockerEngine {
 public:
  virtual ~DockerEngine() = default;
  virtual Result<EngineReply> call(const std::string& method, const std::string& path, const std::string& body) = 0;
};

// For gateways that read certificates only at start (Express Gateway).
// docker-restart: restarts the service of that name in sidecert's own compose
//   project, else the container of that name.
// docker-service: force-updates the swarm service of that name in sidecert's own
//   stack, else the service of that name — what "update the service" in
//   Portainer does.
// sidecert finds its own container by its hostname, which Docker sets to the
// container's ID.
class DockerReloader final : public Reloader {
 public:
  enum class Mode { RestartContainer, UpdateService };
  DockerReloader(DockerEngine& engine, Mode mode, std::string target, std::string selfId);
  Status reload(const ReloadEvent& event) override;
  std::string describe() const override;

 private:
  Status restartContainers();
  Status updateService();
  std::string ownLabel(const std::string& label);
  DockerEngine& engine_;
  Mode mode_;
  std::string target_;
  std::string selfId_;
};

}  // namespace sc::reload
