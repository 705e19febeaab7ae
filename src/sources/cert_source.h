#pragma once
// A place certificates can be obtained from: ACME CAs, then the self-signed
// fallback. The supervisor tries them in order of preference.
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/key_type.h"
#include "core/result.h"
#include "sources/cert_set.h"
#include "store/cert_files.h"
#include "store/state.h"

namespace sc::sources {

// Where orders are counted and remembered. Every order a source places passes
// beforeOrder() first, so no code path can place one the budget did not allow,
// and each is recorded (persisted) before it exists at the CA.
class OrderJournal {
 public:
  virtual ~OrderJournal() = default;
  // The budget's last gate: ErrorKind::Deferred means place no order.
  virtual Status beforeOrder() = 0;
  // The order exists at the CA: what resuming it after a crash needs.
  virtual void orderPlaced(const store::PendingOrder& order) = 0;
  // The order ended (certificate in hand, or the order is dead): nothing to resume.
  virtual void orderEnded() = 0;
};

struct Request {
  std::string lineage;  // its name, for the log
  std::vector<std::string> names;
  KeyType keyType = KeyType::Ec256;
  std::optional<store::CertFiles> current;  // the set being renewed, if any
  OrderJournal* journal = nullptr;          // ACME sources need one
  std::optional<store::PendingOrder> resume;  // an order of this source that a crash left open
};


// When the CA would like a certificate renewed (ARI, RFC 9773).
struct RenewalHint {
  TimePoint renewAt;
  std::optional<TimePoint> askAgainAt;  // the CA's Retry-After
};

class CertSource {
 public:
  virtual ~CertSource() = default;
  virtual store::Source kind() const = 0;
  // Names this source in logs and in the retry schedule (a CA's directory URL).
  virtual std::string id() const { return store::sourceName(kind()); }
  virtual Result<CertSet> obtain(const Request& request, TimePoint now) = 0;
  // Asked for at most `timeLimit`, connecting included: a CA that never answers
  // must not hold the renewal it advises on.
  virtual std::optional<RenewalHint> renewalHint(const store::CertFiles&, TimePoint, std::chrono::milliseconds /*timeLimit*/) {
    return std::nullopt;
  }
};

}  // namespace sc::sources
