#pragma once
// When an operator must hear of a lineage: a pure function of what its last pass
// saw, the alert policy and `now`. Each condition says what is wrong, since when,
// the CA's last error and what to do; schedule.h decides who is told and when.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"

namespace sc::alert {

enum class Condition { NoValidCertificate, SelfSigned, RenewalFailing, UserCertExpiring, ReloadFailing, RenewalAtRisk };
const char* conditionName(Condition c);  // "no_valid_certificate", ...
std::optional<Condition> conditionFrom(const std::string& name);

// What one pass saw of one lineage, as far as alerting goes.
struct LineageFacts {
  std::string name;
  bool served = false;          // a set is live (of whatever kind)
  std::string source;           // user, acme, self-signed
  std::string problem;          // why the live set cannot serve; "" when it can
  TimePoint notAfter{};
  std::chrono::seconds margin{0};  // the renewal margin in force for the live set
  bool acme = false;            // a CA is configured
  int caFailures = 0;           // failed attempts in a row at the CAs
  std::string caLastError;
  bool heldReady = false;       // an ACME set waits to take over from the user's
  bool fellBack = false;        // this pass put the fallback over a CA's set
  int reloadFailures = 0;       // in a row
  std::string reloadError;
  // The budget or a backoff keeps every CA closed until after the set expires.
  std::optional<TimePoint> orderAllowedAt;  // set only then
  std::string atRiskWhy;
};

struct Policy {
  std::chrono::seconds after = std::chrono::hours(1);  // no valid certificate this long
  std::optional<std::chrono::seconds> expiryWithin;     // unset: half the margin
  std::chrono::seconds remind = std::chrono::hours(24);
};

// A gateway reload that failed this many times in a row keeps failing.
inline constexpr int kReloadFailuresToAlert = 3;

enum class Severity { Warning, Critical };
const char* severityName(Severity s);

struct Observation {
  Condition condition = Condition::NoValidCertificate;
  Severity severity = Severity::Warning;
  std::optional<TimePoint> since;  // when it began, where the facts say; else when first seen
  std::chrono::seconds fireAfter{0};  // told only once it has lasted this long
  std::string summary;   // one line
  std::string lastError;
  std::string advice;    // what to do
};

std::vector<Observation> observe(const LineageFacts& facts, const Policy& policy, TimePoint now);

}  // namespace sc::alert
