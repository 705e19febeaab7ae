#pragma once
#include "app/wiring.h"
#include "core/clock.h"

namespace sc::app {

// `sidecert run`: a pass at start, then one whenever the volume changes (after
// it has been quiet for a moment), a renewal falls due, or the check interval
// runs out. SIGTERM/SIGINT end it within a second; SIGHUP asks for a pass now.
class Supervisor {
 public:
  Supervisor(Runtime& runtime, const TimeSource& time);
  int run();

 private:
  Runtime& rt_;
  const TimeSource& time_;
};

}  // namespace sc::app
