#pragma once
// From what the engine runs to the lineages it asks for: the desired set, pure.
// The supervisor diffs it against the lineages it runs (reconcile.h), so a full
// read and an event lead to the same place and a lost event costs nothing.
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "config/load.h"
#include "config/settings.h"
#include "core/clock.h"
#include "discover/workload.h"

namespace sc::discover {

// One lineage a workload asks for, checked as an entry of `certificates:` is.
struct Wanted {
  CertificateSpec spec;
  std::map<std::string, DiscoveredValue> values;  // as the labels gave them: what is remembered
  std::string origin;                             // Workload::describe()
};

// Why a workload gets no lineage: one log line each, naming it.
struct Refusal {
  std::string workload;  // Workload::describe()
  std::string reason;
};

struct Desired {
  std::map<std::string, Wanted> lineages;  // by lineage name
  std::vector<Refusal> refused;
  std::vector<Refusal> notes;  // taken, with something the operator should know
  // Lineages that run and whose workload is back, or asks for other settings, but
  // not for long enough yet: kept as they are, neither gone nor changed.
  std::set<std::string> pending;
  // The earliest moment a workload that is up but not long enough becomes wanted.
  std::optional<TimePoint> recheckAt;
};

// What a discovered lineage may not take: the configured lineages' names and the
// names they hold.
struct Taken {
  std::set<std::string> lineageNames;
  std::set<std::string> names;
};
Taken takenBy(const std::vector<CertificateSpec>& configured);

// `known`: the lineages discovery runs, with the settings they were made from. A
// workload asking for one of them as it is is wanted even before it has been up
// for the settle time (a container restarting keeps its lineage); one asking for
// other settings waits for the settle time like a new one (a label that changes
// every second changes nothing), its lineage kept meanwhile (`pending`). Between
// two workloads that ask for the same lineage or name, the one up longest wins
// (then the lower ID).
using Known = std::map<std::string, std::map<std::string, DiscoveredValue>>;
Desired desiredSet(const std::vector<Workload>& workloads, const Settings& settings, const Taken& taken,
                   const Known& known, TimePoint now);

// The certificate settings a workload's labels (or acme-companion's variables) give:
// none when it asks for no certificate.
std::optional<std::map<std::string, DiscoveredValue>> requestedValues(const Workload& w);

}  // namespace sc::discover
