#include "sources/dns_persist_solver.h"

#include "log/log.h"

namespace sc::sources {
namespace {

std::unexpected<Error> notReady(const dns::RecordToCreate& r, const std::string& problem) {
  return failAs(ErrorKind::NotReady, "dns-persist-01 for " + r.domain + ": " + r.name + " has " +
                                         (problem.rfind("no ", 0) == 0 ? "" : "a record, but ") + problem +
                                         "; create the TXT record " + r.zoneLine() +
                                         " (sidecert dns-record prints it); no order is placed until it is seen");
}

}  // namespace

Result<std::string> DnsPersistSolver::issuerFor(const acme::Directory& directory) const {
  if (!options_.issuer.empty()) return options_.issuer;
  if (directory.caaIdentities.empty())
    return fail("the CA's directory names no issuer domain (meta.caaIdentities) for the dns-persist-01 record: "
                "set SIDECERT_DNS_PERSIST_ISSUER to the one the CA documents");
  return directory.caaIdentities.front();
}

Result<std::string> DnsPersistSolver::problemWith(const dns::RecordToCreate& r, const std::vector<std::string>& issuers) {
  auto found = lookup_.txt(r.name);
  if (!found) return wrap("look up the dns-persist-01 record " + r.name, found.error());
  return dns::persistRecordProblem(*found, issuers, r.record.accountUri, r.record.wildcard, clock_.now());
}

Result<std::vector<dns::RecordToCreate>> DnsPersistSolver::recordsFor(const std::vector<std::string>& names,
                                                                      const std::string& accountUrl,
                                                                      const acme::Directory& directory) const {
  auto issuer = issuerFor(directory);
  if (!issuer) return std::unexpected(issuer.error());
  return dns::persistRecordsFor(names, *issuer, accountUrl, options_.persistUntil);
}

Status DnsPersistSolver::lookAtRecords(const std::vector<dns::RecordToCreate>& records,
                                       const acme::Directory& directory) {
  // The configured issuer, else any of the CA's names
  auto issuers = options_.issuer.empty() ? directory.caaIdentities : std::vector{options_.issuer};
  Status first;
  std::vector<store::DnsRecord> found;
  for (const auto& r : records) {
    auto problem = problemWith(r, issuers);
    if (!problem) return std::unexpected(problem.error());
    found.push_back({r.name, r.text(), "", "", r.domain, problem->empty(), clock_.now()});
    if (problem->empty()) log::debug("dns_record_seen", {{"record", r.name}, {"domain", r.domain}});
    else if (first) first = notReady(r, *problem);
  }
  remember(found);
  return first;
}

void DnsPersistSolver::remember(const std::vector<store::DnsRecord>& found) {
  if (!seen_) return;
  auto before = seen_->load();
  auto now = found;
  for (auto& r : now)
    for (const auto& b : before)
      if (b.name == r.name && b.value == r.value && b.seen == r.seen) r.since = b.since;
  if (now == before) return;
  if (auto ok = seen_->save(now); !ok) log::warn("dns_record_state_failed", {{"error", ok.error().message}});
}

Status DnsPersistSolver::readyToOrder(const std::vector<std::string>& names, const std::string& accountUrl,
                                      const acme::Directory& directory) {
  auto records = recordsFor(names, accountUrl, directory);
  if (!records) return std::unexpected(records.error());
  return lookAtRecords(*records, directory);
}

// The CA's challenge says exactly which account and issuers count: checked again,
// since they may differ from what was assumed before the order.
Status DnsPersistSolver::present(const std::vector<acme::ChallengeTask>& tasks) {
  for (const auto& t : tasks) {
    if (t.answered) continue;
    const auto& issuers = t.challenge.issuerDomainNames;
    dns::RecordToCreate r{t.identifier, dns::persistRecordName(t.identifier),
                          {issuers.front(), t.challenge.accountUri.empty() ? t.accountUrl : t.challenge.accountUri,
                           t.wildcard, options_.persistUntil}};
    auto problem = problemWith(r, issuers);
    if (!problem) return std::unexpected(problem.error());
    if (!problem->empty()) return notReady(r, *problem);
  }
  return {};
}

}  // namespace sc::sources
