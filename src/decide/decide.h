#pragma once
// What to do next with one lineage: a pure function of what is there (the live set,
// a set held in reserve, files a user dropped), what was done before (the order
// ledgers, the CA's renewal window), the policy and `now`. The pass carries out one
// decision, updates the facts and asks again until the answer is Done; every rule
// of preference, renewal, backoff and handover lives here and nowhere else.
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/clock.h"
#include "renew/order_budget.h"
#include "store/cert_files.h"

namespace sc::decide {

// A set as far as deciding goes.
struct SetFacts {
  std::string id;
  store::Source source = store::Source::SelfSigned;
  bool readable = false;  // parsed: the dates below mean something
  TimePoint notBefore{};
  TimePoint notAfter{};
  std::string problem;  // why it cannot serve the names now; "" when it can
  bool usable() const { return readable && problem.empty(); }
};

// Files a user dropped into live/<name>/, as judged.
struct DropFacts {
  enum class Verdict { Accept, Incomplete, Refuse };
  Verdict verdict = Verdict::Refuse;
  std::string reason;      // Refuse, Incomplete
  std::string awaited;     // Incomplete: the file that would complete the set
  TimePoint lastFileAt{};  // when the latest file arrived (or this start, for files older than it)
};

struct SourceFacts {
  std::string id;  // a CA's directory URL, or the fallback's name
  store::Source kind = store::Source::SelfSigned;
  renew::OrderBudget budget;
};

// When the account a source orders under may be asked for this lineage (the pace
// of renew/account_pace.h: the account-wide limit and this lineage's turn in it,
// a rateLimited hold, the names' failed validations), as it was asked at `now`.
struct AccountTurn {
  TimePoint at;
  std::string why;
};

struct Facts {
  std::optional<SetFacts> live;  // our set that live/<name> serves, or the last we published
  bool linkIsOurs = true;        // false: live/<name> is missing or someone else's
  std::optional<SetFacts> held;  // an ACME set in reserve for when the user's certificate ends
  std::optional<DropFacts> drop;
  std::optional<TimePoint> ariRenewAt;     // the CA's renewal window for the live set (RFC 9773)
  std::optional<TimePoint> ariAskAgainAt;  // when that CA may be asked again
  std::map<std::string, renew::OrderLedger> ledgers;  // by source id
  std::optional<TimePoint> lastExpiryWarning;
  std::set<std::string> attempted;  // sources already asked in this pass: each at most once
  std::map<std::string, AccountTurn> accountMayOrderAt;  // by source id; none: no account-wide pace
};

struct Policy {
  std::optional<std::chrono::seconds> renewBefore;  // none: the lifetime rule, or the CA's window
  std::chrono::seconds checkInterval = std::chrono::hours(24 * 7);
  std::chrono::seconds userGrace = std::chrono::seconds(60);
  std::vector<SourceFacts> sources;  // in order of preference; the last needs no network
};

enum class Action {
  AdoptUserSet,   // publish the files the user dropped
  RefuseUserSet,  // move them aside, with the reason
  RestoreLink,    // put our set back at live/<name>
  UseHeld,        // publish the set held in reserve
  Obtain,         // ask Policy::sources[source]
  Done,           // nothing more this pass; come back at nextCheck
};

// The budget or a backoff keeps every CA closed from the moment the set in place
// falls due until after it expires: said at once, not found out at expiry.
struct AtRisk {
  std::string why;          // what holds the CA back
  TimePoint notAfter;       // when the set in place expires
  TimePoint orderAllowedAt; // the earliest moment a CA may be asked
};

// A source that would be asked but the order budget or a backoff holds it back.
struct Deferral {
  std::string source;
  TimePoint until;
  std::string why;
  bool waiting = false;  // only a wait for something not ready (a DNS record): no failure to warn of
  bool paced = false;    // the account's pace holds it (its turn comes at `until`), not this lineage's own gate
};

struct Decision {
  Action action = Action::Done;
  std::string why;
  std::size_t source = 0;  // Obtain
  bool hold = false;       // Obtain: keep the set in reserve, since the user's still serves
  TimePoint nextCheck{};   // Done
  bool warnExpiring = false;  // the user's certificate is in its renewal margin and was not warned of today
  std::vector<Deferral> deferred;
  std::optional<AtRisk> atRisk;  // Done: the set in place will expire before any CA may be asked
};

// A pass that cannot put a valid set in place comes back this soon.
inline constexpr std::chrono::seconds kRetryUnusable{60};
// A DNS record a person must create (dns-persist-01) is looked for again this
// often: a lookup costs the CA nothing, and the person is waiting for it.
inline constexpr std::chrono::seconds kRecordRecheck{30};
// A set still due after this pass asked every open source (the new certificate
// is due at once, or the volume refused it) comes back after a quarter of the
// time it has left, at most kRetryUnusable and at least this: a 40-second
// certificate is asked for again within its life, a 90-day one after a minute.
inline constexpr std::chrono::seconds kRetryDueAtLeast{1};
// A pass that failed with a second left comes back in a quarter of it: the live
// set can still be renewed. Not sooner than this, so a failing volume is no loop.
inline constexpr std::chrono::milliseconds kRetryFailedPassAtLeast{100};
// The longest the CA's renewalInfo is waited for: one request, no retries (it is
// advice; the lineage's own margin stands without it), and never more than half
// of the time until that margin falls due, so a CA that never answers cannot hold
// a renewal past it. Under kAriLeastTime left, it is not asked in this pass.
inline constexpr std::chrono::seconds kAriMostTime{30};
inline constexpr std::chrono::milliseconds kAriLeastTime{500};
// RFC 9773 4.3.2: a renewalInfo Retry-After under a minute counts as a minute,
// over a day as a day; a CA that gave none, or failed, is asked again in 6 hours.
inline constexpr std::chrono::seconds kAriMinRetry{60};
inline constexpr std::chrono::seconds kAriMaxRetry{24 * 3600};
inline constexpr std::chrono::seconds kAriDefaultRetry{6 * 3600};
// The CA's window may put a renewal later than the lifetime rule would, but never
// closer to expiry than this share of that rule's margin: a window at or past
// expiry (a hostile or broken CA) still leaves time for retries.
inline constexpr int kAriLatestMarginDivisor = 2;
// How often an expiring user certificate is warned about, at most.
inline constexpr std::chrono::seconds kExpiryWarningEvery{24 * 3600};

Decision decide(const Facts& facts, const Policy& policy, TimePoint now);

// The renewal margin in force for a set: the configured one, unless it is not
// shorter than the lifetime (then a third of it, so new certificates are not due
// at once); unset, the lifetime rule.
std::chrono::seconds marginFor(const SetFacts& set, const Policy& policy);
bool marginTooLong(const SetFacts& set, const Policy& policy);
// When the set is due: its margin before notAfter, or the CA's ARI window for an
// ACME set where no margin is configured.
// ARI's time is bounded by kAriLatestMarginDivisor.
TimePoint renewalTime(const SetFacts& set, const Facts& facts, const Policy& policy);

// How long the CA's renewalInfo may take for this set at `now` (see kAriMostTime);
// zero: do not ask now.
std::chrono::milliseconds ariTimeLimit(const SetFacts& set, const Policy& policy, TimePoint now);

// When a pass that could not finish (the volume unreadable, a step that failed)
// comes back: within a minute, and within a quarter of what the set it last
// knew has left, so a short certificate is retried inside its life.
TimePoint retryAfterFailedPass(std::optional<TimePoint> liveNotAfter, TimePoint now);

// Until when a source that was not ready (a DNS record not there or not served
// yet) is left alone: what it asked for (`asked`, else kRecordRecheck), and
// never longer than a failed pass would wait.
TimePoint notReadyUntil(std::optional<TimePoint> liveNotAfter, std::chrono::seconds asked, TimePoint end);

// When the CA's renewalInfo may be asked again after it was asked at `now`:
// `caAsked` is its Retry-After as a time, none where it gave none or failed.
TimePoint ariAskAgainAt(TimePoint now, std::optional<TimePoint> caAsked);

}  // namespace sc::decide
