#pragma once
// Names from the stack, as `run` keeps them: the discoverer's readings become a
// desired set (discover/desired.h), diffed against the discovered lineages that
// run (discover/registry.h); the supervisor carries the plan out on its slots.
#include <memory>
#include <optional>
#include <set>
#include <string>

#include <Poco/JSON/Array.h>

#include "app/wiring.h"
#include "discover/discoverer.h"
#include "discover/registry.h"

namespace sc::app {

// The discovered lineages remembered from the last run that are still allowed,
// added to the configured ones: status, once and run see them at once, before the
// engine answers, and a restart orders nothing new for them.
void addRememberedLineages(Settings& settings);

// For check-config: what is discovered, where from, and within which bounds.
std::string describeDiscovery(const Settings& settings);

// For `status`: the discovered lineages no longer renewed, and since when.
Poco::JSON::Array retiredJson(const Settings& settings);
void printRetired(const Settings& settings);

// What the supervisor does with its slots, as discovery asks.
class LineageHost {
 public:
  virtual ~LineageHost() = default;
  virtual void addLineage(const CertificateSpec& spec) = 0;
  virtual void replaceLineage(const CertificateSpec& spec) = 0;  // other names or settings
  virtual void retireLineage(const std::string& name) = 0;       // no longer renewed
};

class Discovery {
 public:
  // nullptr when discovery is off.
  static Result<std::unique_ptr<Discovery>> start(Runtime& rt);
  int fd() const { return discoverer_->fd(); }
  // When the next grace runs out or a young workload is old enough: call onTimer.
  std::optional<TimePoint> wakeAt() const;
  void onReading(LineageHost& host, TimePoint now);
  void onTimer(LineageHost& host, TimePoint now);

 private:
  Discovery(Runtime& rt) : rt_(rt), registry_(rt.fs, rt.settings.stateDir) {}
  void reconcileWith(LineageHost& host, TimePoint now);
  void carryOut(const discover::Plan& plan, const discover::Desired& desired, LineageHost& host, TimePoint now);
  void logNew(const discover::Desired& desired, const std::vector<std::string>& problems);

  Runtime& rt_;
  std::unique_ptr<discover::Discoverer> discoverer_;
  discover::Registry registry_;
  discover::Entries entries_;
  discover::Taken taken_;                     // by the configured lineages
  std::optional<discover::Reading> reading_;  // the latest
  std::optional<TimePoint> recheckAt_;
  std::optional<TimePoint> graceEndsAt_;
  std::set<std::string> logged_;  // refusals and problems said in the last round
};

}  // namespace sc::app
