// sidecert dns-record: the one step of dns-persist-01 a person takes, made exact.
#include <iostream>

#include "app/commands.h"
#include "app/wiring.h"
#include "dns/persist_record.h"
#include "log/log.h"

namespace sc::app {
namespace {

struct RecordsAt {
  std::vector<dns::RecordToCreate> records;
  acme::Directory directory;
};

// The records one lineage needs at one CA: its account made if there is none.
Result<RecordsAt> recordsAt(LineageRuntime& l, sources::AcmeSource& ca) {
  if (!l.persist) return fail(l.name() + " does not use dns-persist-01");
  auto account = ca.accountAndDirectory();
  if (!account) return wrap("ask " + ca.id() + " for the account", account.error());
  auto records = l.persist->recordsFor(l.spec.domains, account->first, account->second);
  if (!records) return std::unexpected(records.error());
  return RecordsAt{std::move(*records), std::move(account->second)};
}

}  // namespace

int dnsRecord(Runtime& rt, const std::vector<CertificateSpec>& specs) {
  int rc = kExitOk;
  bool any = false;
  for (auto& l : rt.lineages) {
    if (std::none_of(specs.begin(), specs.end(), [&](const CertificateSpec& s) { return s.name == l->name(); })) continue;
    if (l->spec.challenge != ChallengeType::DnsPersist01) {
      std::cout << "# " << l->name() << ": uses " << challengeTypeName(l->spec.challenge) << ", no record to create\n";
      continue;
    }
    if (l->acme.empty()) {
      std::cerr << "sidecert: dns-record: no ACME CA is configured (SIDECERT_ACME_DIRECTORY)\n";
      return kExitUsage;
    }
    for (auto& ca : l->acme) {
      auto records = recordsAt(*l, *ca);
      if (!records) {
        std::cerr << "sidecert: dns-record: " << l->name() << ": " << records.error().message << "\n";
        rc = kExitNoCertificate;
        continue;
      }
      std::cout << "# " << l->name() << " at " << ca->id() << "\n";
      for (const auto& r : records->records) std::cout << r.zoneLine() << "\n";
      any = true;
    }
  }
  if (!any && rc == kExitOk) std::cout << "# no certificate uses dns-persist-01 (SIDECERT_CHALLENGE)\n";
  return rc;
}

void startDnsChallenge(LineageRuntime& l) {
  // dns-01: records a crash kept from being removed go, unless an order is open:
  // its resumption keeps the records it still needs and removes the rest.
  if (l.spec.challenge == ChallengeType::Dns01 && !l.state.load().pendingOrder) l.solver->tidyUp();
  if (!l.persist) return;
  for (auto& ca : l.acme) {
    auto records = recordsAt(l, *ca);
    if (!records) {
      log::warn("dns_record_unknown", {{"name", l.name()}, {"ca", ca->id()}, {"error", records.error().message}});
      continue;
    }
    for (const auto& r : records->records)
      log::info("dns_record", {{"name", l.name()}, {"ca", ca->id()}, {"record", r.name}, {"type", "TXT"},
                               {"value", r.text()}});
    // looked up now, so that `status` says whether each is seen from the start
    if (auto seen = l.persist->lookAtRecords(records->records, records->directory); !seen)
      log::info("dns_record_not_seen", {{"name", l.name()}, {"error", seen.error().message}});
  }
}

}  // namespace sc::app
