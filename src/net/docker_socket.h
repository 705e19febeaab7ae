#pragma once
// DockerEngine over the engine's unix socket, through libcurl.
#include <string>

#include "net/docker_engine.h"

namespace sc::net {

class DockerSocket final : public DockerEngine {
 public:
  // stopFd: readable when the process must stop; a call under way then ends at
  // once with ErrorKind::Cancelled (-1: none).
  DockerSocket(std::string socketPath, int stopFd = -1);
  Result<EngineReply> call(const std::string& method, const std::string& path, const std::string& body) override;

 private:
  std::string socket_;
  int stopFd_;
};

}  // namespace sc::net
