#pragma once
#include <string>

#include "core/result.h"

namespace sc::net {

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

// "HTTP 404: the engine's own words" ({"message": "..."}, at most 300 characters),
// or the status alone.
std::string engineError(const EngineReply& reply);
// A name or ID as one path segment of an API URL: a hostname or a name from the
// settings with "/", "?" or "%" in it cannot reach another endpoint.
std::string pathSegment(const std::string& s);

}  // namespace sc::net
