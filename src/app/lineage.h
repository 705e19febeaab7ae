#pragma once
// One pass over one lineage: take in what a user dropped, judge what is live,
// obtain what is missing or due, publish, tell the gateway, plan the next pass.
// Everything it touches comes in through the constructor; `now` is a parameter.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/key_type.h"
#include "reload/reloader.h"
#include "sources/cert_set.h"
#include "sources/cert_source.h"
#include "store/state.h"
#include "store/volume.h"

namespace sc::app {

struct Policy {
  std::vector<std::string> names;          // what certificates are issued for
  std::vector<std::string> requiredNames;  // what a user certificate must cover (configured names)
  KeyType keyType = KeyType::Ec256;
  std::optional<std::chrono::seconds> renewBefore;
  std::chrono::seconds checkInterval = std::chrono::hours(24 * 7);
  std::chrono::seconds userGrace = std::chrono::seconds(60);
};

// What is in place, as `status` shows it.
struct LiveStatus {
  std::string source;  // user, acme, self-signed
  std::vector<std::string> names;
  std::string issuer;
  std::string serial;
  TimePoint notBefore;
  TimePoint notAfter;
  std::string problem;  // empty when the set is valid
};

struct PassResult {
  bool changed = false;
  std::optional<LiveStatus> live;
  TimePoint nextCheck;
  bool healthy() const { return live && live->problem.empty(); }
};

// A pass that fails to write waits this long before trying again.
inline constexpr std::chrono::seconds kRetryAfterError{60};
// A gateway reload that failed is tried again after this long.
inline constexpr std::chrono::seconds kReloadRetry{60};
// The retry schedule of a source that failed (about 1 min, 10 min, 100 min, daily).
std::chrono::seconds retryDelay(int failures, std::chrono::seconds serverAsked);
// How often an expiring user certificate is warned about, at most.
inline constexpr std::chrono::seconds kExpiryWarningEvery{24 * 3600};

class Lineage {
 public:
  // `issuers` in order of preference; the last is the fallback that needs no network.
  Lineage(Policy policy, store::Volume& volume, store::StateStore& state, std::vector<sources::CertSource*> issuers,
          reload::Reloader& reloader);

  PassResult pass(TimePoint now);
  const Policy& policy() const { return policy_; }

 private:
  struct Current {
    store::SetRecord record;
    std::optional<sources::ParsedSet> parsed;
    std::string problem;
  };

  void takeUserFiles(const store::LiveView& view, TimePoint now);
  bool judgePending(const std::optional<store::SetRecord>& current, TimePoint now, PassResult& result);
  std::optional<Current> loadCurrent(const std::optional<store::SetRecord>& record, TimePoint now);
  bool obtainBetter(std::optional<Current>& current, TimePoint now, store::LineageState& state);
  TimePoint renewalTimeOf(const Current& current, TimePoint now, std::optional<TimePoint>& askAgain);
  bool publish(const store::CertFiles& files, store::Source source, const std::string& reason, TimePoint now);
  void planNext(const std::optional<Current>& current, TimePoint now, const store::LineageState& state,
                PassResult& result);
  // True when the gateway still has to be told.
  bool reloadIfNeeded(bool changed, bool pending, TimePoint now, PassResult& result);

  Policy policy_;
  store::Volume& volume_;
  store::StateStore& state_;
  std::vector<sources::CertSource*> issuers_;
  reload::Reloader& reloader_;
  std::optional<TimePoint> lastDropAt_;
  bool incompleteLogged_ = false;
  bool firstPass_ = true;
  struct RenewalCache {
    std::string setId;
    TimePoint asked, renewAt;
    std::optional<TimePoint> askAgain;
  };
  std::optional<RenewalCache> renewalCache_;
};

std::optional<LiveStatus> describe(const store::SetRecord& record, const std::optional<sources::ParsedSet>& parsed,
                                   const std::string& problem);

}  // namespace sc::app
