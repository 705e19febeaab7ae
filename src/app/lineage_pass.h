#pragma once
// What one pass of a Lineage holds, shared by the files that carry the pass out:
// lineage.cpp (reading and judging the volume, the pass itself), lineage_facts.cpp
// (the facts decide() reads, and what is reported of them), lineage_obtain.cpp
// (carrying a decision out: orders, publication).
#include <optional>
#include <string>

#include "app/lineage.h"

namespace sc::app {

// Everything one pass knows and has done.
struct Lineage::Pass {
  TimePoint now;
  TimePoint clockAtStart;  // the clock's reading when the pass began: time gone since is added to `now`
  store::LineageState state;
  std::optional<LoadedSet> current;  // what the gateway is served, or our last set
  std::optional<LoadedSet> held;
  std::optional<sources::UserVerdict> drop;
  bool linkIsOurs = false;  // live/<name> leads to our current set
  decide::Facts facts;
  bool changed = false;
  bool untold = false;  // the gateway has not been told of the live set yet
  std::string lastError;  // the last source that failed, for the fallback's warning
  int failedAttempts = 0;
  bool fellBack = false;  // the fallback was published over a CA's set
};

}  // namespace sc::app
