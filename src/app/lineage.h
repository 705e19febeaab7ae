#pragma once
// One pass over one lineage: take in what a user dropped, judge what is live,
// obtain what is missing or due, publish, tell the gateway, plan the next pass.
// Everything it touches comes in through the constructor; `now` is a parameter.
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/key_type.h"
#include "decide/decide.h"
#include "reload/reloader.h"
#include "renew/account_pace.h"
#include "renew/order_budget.h"
#include "sources/cert_set.h"
#include "sources/cert_source.h"
#include "sources/user_source.h"
#include "store/held_set.h"
#include "store/revocation_marks.h"
#include "store/state.h"
#include "store/user_drops.h"
#include "store/volume.h"

namespace sc::app {

struct Policy {
  std::vector<std::string> names;          // what certificates are issued for
  std::vector<std::string> requiredNames;  // what a user certificate must cover (configured names)
  KeyType keyType = KeyType::Ec256;
  std::optional<std::chrono::seconds> renewBefore;
  std::chrono::seconds checkInterval = std::chrono::hours(24 * 7);
  std::chrono::seconds userGrace = std::chrono::seconds(60);
  renew::OrderBudget orderBudget;
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

  // What alerts and metrics are told of the pass.
  std::chrono::seconds margin{0};  // the renewal margin in force for the live set
  bool heldReady = false;          // an ACME set waits to take over from the user's
  bool fellBack = false;           // the fallback was put over a CA's set
  int caFailures = 0;              // attempts at the CAs that failed in a row
  std::string caLastError;
  std::optional<TimePoint> lastAttempt;   // an order was last placed
  std::optional<TimePoint> lastIssuance;  // a CA last issued a certificate
  int failedAttempts = 0;                 // in this pass
  std::optional<decide::AtRisk> atRisk;   // the set in place expires before any CA may be asked
  bool reloaded = false;                  // in this pass
  bool reloadFailed = false;              // in this pass
  int reloadFailures = 0;                 // in a row
  std::string reloadError;
};


// One pass gathers the facts, asks decide::decide what to do, carries it out,
// updates the facts and asks again, until the answer is Done.
class Lineage {
 public:
  // `issuers` in order of preference; the last is the fallback that needs no network.
  // `clock` measures how long an attempt took: its retry counts from its end.
  Lineage(Policy policy, store::Volume& volume, store::StateStore& state, std::vector<sources::CertSource*> issuers,
          reload::Reloader& reloader, const TimeSource& clock = systemTime());

  // Leaves the account paces it joined (a retired lineage waits for no turn).
  ~Lineage();
  Lineage(const Lineage&) = delete;
  Lineage& operator=(const Lineage&) = delete;

  PassResult pass(TimePoint now);
  const Policy& policy() const { return policy_; }

  // Asked before every order: an error (the swarm lease is not ours) places none.
  void setOrderGuard(std::function<Status()> guard) { orderGuard_ = std::move(guard); }
  // Run once, at the end of the first pass, on the pass's thread: what a DNS
  // challenge does at start (log its records, remove what a crash left) waits
  // for the fallback to be in place and never runs beside the lineage's sources.
  void setAfterFirstPass(std::function<void()> hook) { afterFirstPass_ = std::move(hook); }
  // Run after every set this lineage publishes, before the gateway is told: the
  // gateway views (store/views.h) follow the set.
  void setAfterPublish(std::function<void()> hook) { afterPublish_ = std::move(hook); }
  // A set kept elsewhere (the swarm's store) replaces the live one when
  // swarm::shouldRestore says so; true when it was published.
  bool restore(const store::CertFiles& files, store::Source source, TimePoint now);
  // The next pass tells the gateway even if nothing changed.
  void reloadOnNextPass();
  // Orders from the source `sourceId` (a CA's directory URL) wait their turn in
  // this account-wide pace, shared with the other lineages of that account.
  void setAccountPace(const std::string& sourceId, renew::AccountPace& pace, TimePoint now);

 private:
  // A set as read once per pass: its files, parsed, and why it cannot serve.
  struct LoadedSet {
    store::SetRecord record;
    std::optional<store::CertFiles> files;
    std::optional<sources::ParsedSet> parsed;
    std::string problem;
  };
  struct Pass;

  void setAsideForeignCombined(store::LiveView& view, TimePoint now);
  void takeUserFiles(const store::LiveView& view, TimePoint now);
  std::optional<store::SetRecord> ourRecord(const store::LiveView& view);
  std::optional<sources::UserVerdict> judgeDrop(const std::optional<LoadedSet>& current, TimePoint now);
  std::optional<LoadedSet> load(const std::optional<store::SetRecord>& record, TimePoint now);
  std::optional<LoadedSet> loadHeld(TimePoint now);
  void refreshFacts(Pass& p, const decide::Policy& policy);
  void askAri(Pass& p, const decide::Policy& policy);
  void report(const decide::Decision& d, Pass& p);
  void carryOut(const decide::Decision& d, Pass& p);
  void adoptUserSet(Pass& p);
  void refuseUserSet(const std::string& reason, Pass& p);
  // True when it was published.
  bool publishAndLoad(sources::CertSet set, store::Source source, const std::string& why, Pass& p);
  void judge(LoadedSet& set, TimePoint now);
  std::string problemOf(const store::SetRecord& record, const sources::ParsedSet& parsed, TimePoint now);
  void notReady(renew::OrderLedger& ledger, const Error& error, TimePoint end, Pass& p);
  void failed(sources::CertSource& issuer, renew::OrderLedger& ledger, const Error& error, TimePoint end, Pass& p);
  void obtain(const decide::Decision& d, Pass& p);
  Result<sources::CertSet> attempt(sources::CertSource& issuer, const sources::Request& request, TimePoint now,
                                    const std::function<TimePoint()>& attemptTime, TimePoint& end);
  decide::Policy decidePolicy() const;
  // The order budget a source answers to: a CA's, or none for the fallback.
  const renew::OrderBudget& budgetFor(const sources::CertSource& issuer) const;
  std::optional<store::SetRecord> publish(const store::CertFiles& files, store::Source source,
                                          const std::string& reason, TimePoint now);
  // True when the gateway still has to be told.
  bool reloadIfNeeded(Pass& p, PassResult& result);
  void reportFacts(const Pass& p, const decide::Policy& policy, PassResult& result) const;
  // How soon this lineage needs an order: the end of the CA or user set it serves.
  renew::Urgency urgency(const Pass& p) const;
  // Each account's pace is told whether this lineage waits its turn there, and until when.
  void tellPaces(const decide::Decision& d, const Pass& p);
  // A CA's refusal that concerns the whole account (rateLimited) or a name (a failed validation).
  void noteForAccount(const sources::CertSource& issuer, const Error& error, TimePoint end);

  Policy policy_;
  // The pieces of the store that share the volume's folders, made when used: each
  // keeps a copy of the layout's paths, and 10,000 idle lineages would keep three
  // copies each (about 1.5 KiB a lineage) for nothing.
  store::UserDrops userDrops() const { return {volume_.fileSystem(), volume_.layout()}; }
  store::HeldSet heldSet() const { return {volume_.fileSystem(), volume_.layout(), volume_.publishing()}; }
  store::RevocationMarks revocationMarks() const { return {volume_.fileSystem(), volume_.layout()}; }

  store::Volume& volume_;  // the published sets
  store::StateStore& state_;
  std::vector<sources::CertSource*> issuers_;
  reload::Reloader& reloader_;
  const TimeSource& clock_;
  std::optional<TimePoint> lastDropAt_;
  bool incompleteLogged_ = false;
  bool firstPass_ = true;
  // The live set's notAfter as the last pass read it: a pass that cannot read the
  // volume is retried within what that set has left (decide::retryAfterFailedPass).
  std::optional<TimePoint> lastNotAfter_;
  std::function<void()> afterFirstPass_;
  std::function<void()> afterPublish_;
  std::string marginWarnedFor_;                      // the set whose too-long margin was warned about
  std::map<std::string, TimePoint> deferralLogged_;  // by source: the time a warning named
  std::optional<std::pair<TimePoint, TimePoint>> riskLogged_;  // the expiry and reopening renewal_at_risk named
  std::function<Status()> orderGuard_;
  std::map<std::string, renew::AccountPace*> paces_;  // by source id
};

std::optional<LiveStatus> describe(const store::SetRecord& record, const std::optional<sources::ParsedSet>& parsed,
                                   const std::string& problem);

}  // namespace sc::app
