#pragma once
// reload::DockerEngine over the engine's unix socket, through libcurl.
#include <string>

#include "reload/docker_reloader.h"

namespace sc::net {

class DockerSocket final : public reload::DockerEngine {
 public:
  explicit DockerSocket(std::string socketPath);
  Result<reload::EngineReply> call(const std::string& method, const std::string& path, const std::string& body) override;

 private:
  std::string socket_;
};

}  // namespace sc::net
