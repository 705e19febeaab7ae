#pragma once
// A container or a swarm service as discovery sees it: what the engine said of
// it, already checked for shape (net's replies are hostile; engine_reader.cpp).
#include <map>
#include <optional>
#include <string>

#include "core/clock.h"

namespace sc::discover {

struct Workload {
  enum class Kind { Container, Service };
  Kind kind = Kind::Container;
  std::string id;    // the engine's ID
  std::string name;  // "web-1" (a container's name without its "/"), a service's name
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> env;  // LETSENCRYPT_* only matter here
  bool running = false;                    // a service is "running" while it exists
  std::optional<TimePoint> upSince;        // started (a container), last updated (a service)

  // "container web-1 (3f2a9c81d0e4)", as log lines and `status` name it.
  std::string describe() const;
};

}  // namespace sc::discover
