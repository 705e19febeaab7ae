#pragma once
#include <string>
#include <vector>

#include "config/settings.h"
#include "core/result.h"

namespace sc {

inline constexpr const char* kSwarmCertsDir = "/var/lib/certs";

// "none";
// "signal:nginx[:HUP]": a signal to the top process of that name (shared PID namespace);
// "docker-restart:gateway": restart a container (or the service of our own compose
//   project) through the Docker Engine API;
// "docker-service:express-gw": force-update a swarm service (of our own stack);
// "swarm:express-gw[:/var/lib/certs]": keep the sets in the swarm's store and give
//   them to that service's tasks as secrets and configs (swarm mode, README);
// "command:/usr/sbin/nginx -s reload" (split on spaces, no shell), or
//   command:["prog","an arg with spaces"] when an argument needs spaces.
Result<ReloadSpec> parseReloadSpec(const std::string& text);
Result<ReloadSpec> reloadCommand(std::vector<std::string> argv);

}  // namespace sc
