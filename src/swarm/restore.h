#pragma once
// Whether a sidecert that starts puts the swarm's newest set in its own volume:
// what reached the swarm is what the gateways serve, so it wins over what this
// node's volume holds, unless the two are the same certificate, or the swarm's
// is a self-signed stand-in (never worth restoring: a fresh one is as good) or
// can no longer serve.
#include <optional>
#include <string>

namespace sc::swarm {

struct RestoreFacts {
  std::optional<std::string> localFingerprint;  // the volume's live set, when it has one
  bool swarmHasSet = false;
  bool swarmSelfSigned = false;
  bool swarmUsable = false;
  std::string swarmFingerprint;
};

inline bool shouldRestore(const RestoreFacts& f) {
  if (!f.swarmHasSet || f.swarmSelfSigned || !f.swarmUsable) return false;
  return f.localFingerprint != f.swarmFingerprint;
}

}  // namespace sc::swarm
