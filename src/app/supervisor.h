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

// After a change in live/, wait for this much quiet: `docker cp` writes a file in
// several steps, and three files come in three commands.
inline constexpr std::chrono::milliseconds kQuietPeriod{1000};
// ...but never longer than this after the first change (the contract: 5 seconds).
inline constexpr std::chrono::milliseconds kMaxSettle{3000};

}  // namespace sc::app
