// sidecert dns-record: the one step of dns-persist-01 a person takes, made exact.
#include <iostream>

#include "app/commands.h"
#include "app/wiring.h"
#include "dns/persist_record.h"
#include "log/log.h"
#include "sources/dns_persist_solver.h"

namespace sc::app {
namespace {

// The records one lineage needs at one CA: its account made if there is none.
Result<std::vector<dns::RecordToCreate>> recordsAt(LineageRuntime& l, sources::AcmeSource& ca) {
  auto account = ca.accountAndDirectory();
  if (!account) return wrap("ask " + ca.id() + " for the account", account.error());
  auto* persist = dynamic_cast<sources::DnsPersistSolver*>(l.solver.get());
  if (!persist) return fail(l.name() + " does not use dns-persist-01");
  auto issuer = persist->issuerFor(account->second);
  if (!issuer) return std::unexpected(issuer.error());
  return dns::persistRecordsFor(l.spec.domains, *issuer, account->first, persist->persistUntil());
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
      for (const auto& r : *records) std::cout << r.zoneLine() << "\n";
      any = true;
    }
  }
  if (!any && rc == kExitOk) std::cout << "# no certificate uses dns-persist-01 (SIDECERT_CHALLENGE)\n";
  return rc;
}

void logDnsRecords(Runtime& rt) {
  for (auto& l : rt.lineages) {
    if (l->spec.challenge != ChallengeType::DnsPersist01) continue;
    for (auto& ca : l->acme) {
      auto records = recordsAt(*l, *ca);
      if (!records) {
        log::warn("dns_record_unknown", {{"name", l->name()}, {"ca", ca->id()}, {"error", records.error().message}});
        continue;
      }
      for (const auto& r : *records)
        log::info("dns_record", {{"name", l->name()}, {"ca", ca->id()}, {"record", r.name}, {"type", "TXT"},
                                 {"value", r.text()}});
    }
  }
}

}  // namespace sc::app
