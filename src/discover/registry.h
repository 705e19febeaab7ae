#pragma once
// The discovered lineages sidecert runs, remembered in the state folder
// (discovered.json), so that a restart takes them up at once, before the engine
// answers, without ordering again, and `status` can say where each came from.
// What to do when the engine's desired set changes is reconcile(): pure.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/load.h"
#include "core/clock.h"
#include "discover/desired.h"
#include "store/fs.h"

namespace sc::discover {

struct Entry {
  std::string name;
  std::map<std::string, DiscoveredValue> values;  // the labels as given, checked again when read
  std::string origin;                             // "container web-1 (3f2a9c81d0e4)"
  TimePoint since{};                              // first wanted
  std::optional<TimePoint> goneSince;             // no workload asks for it since then
  std::optional<TimePoint> retiredAt;             // the grace ran out: no longer renewed
  bool operator==(const Entry&) const = default;
  bool active() const { return !retiredAt; }
};
using Entries = std::map<std::string, Entry>;  // by lineage name

class Registry {
 public:
  Registry(store::FileSystem& fs, store::Path stateDir) : fs_(fs), file_(stateDir / "discovered.json") {}
  // A missing file is none; a hostile one is read within bounds, and an entry
  // that does not have the shape of one is dropped.
  Entries load();
  Status save(const Entries& entries);

 private:
  store::FileSystem& fs_;
  store::Path file_;
};

// What the supervisor does with its discovered lineages, given the desired set.
struct Plan {
  std::vector<std::string> add;     // new, or wanted again after retirement: start it
  std::vector<std::string> change;  // wanted with other settings: build it anew
  std::vector<std::string> gone;    // no longer wanted: the grace starts
  std::vector<std::string> back;    // wanted again within the grace: as before
  std::vector<std::string> retire;  // the grace ran out: stop renewing, withdraw live/<name>
  Entries next;                     // the entries once done
  std::optional<TimePoint> wakeAt;  // the next grace that runs out
  bool empty() const { return add.empty() && change.empty() && gone.empty() && back.empty() && retire.empty(); }
};

Plan reconcile(const Desired& desired, const Entries& current, TimePoint now, std::chrono::seconds grace);
// Only the grace timers (no engine reading): the entries whose grace ran out.
Plan expireGrace(const Entries& current, TimePoint now, std::chrono::seconds grace);

}  // namespace sc::discover
