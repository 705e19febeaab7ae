#pragma once
// dns-persist-01 (draft-ietf-acme-dns-persist-01): a TXT record a person created
// once names the CA and the ACME account; sidecert holds no DNS credential and
// only reads the record, before each order and again before telling the CA, so a
// missing or wrong record costs no failed validation.
#include <optional>
#include <string>
#include <vector>

#include "acme/solver.h"
#include "core/clock.h"
#include "dns/client.h"
#include "dns/persist_record.h"
#include "store/dns_record_file.h"

namespace sc::sources {

struct PersistOptions {
  std::string issuer;  // empty: the CA's (its directory's caaIdentities)
  std::optional<TimePoint> persistUntil;
};

class DnsPersistSolver final : public acme::Solver {
 public:
  // `seen`: where what each look found is kept, for `status` (none: not kept).
  DnsPersistSolver(dns::Lookup& lookup, PersistOptions options, const TimeSource& clock,
                   store::DnsRecordFile* seen = nullptr)
      : lookup_(lookup), options_(std::move(options)), clock_(clock), seen_(seen) {}
  const char* type() const override { return "dns-persist-01"; }
  Status readyToOrder(const std::vector<std::string>& names, const std::string& accountUrl,
                      const acme::Directory& directory) override;
  Status present(const std::vector<acme::ChallengeTask>& tasks) override;
  void cleanUp() override {}

  // The issuer the record must give: the configured one, else the CA's first name.
  Result<std::string> issuerFor(const acme::Directory& directory) const;
  // Every record these names need, each looked up: the first that does not let
  // this account validate gives a NotReady error naming the line to create.
  Status lookAtRecords(const std::vector<dns::RecordToCreate>& records, const acme::Directory& directory);
  // The records for these names at this CA, as dns-record prints them.
  Result<std::vector<dns::RecordToCreate>> recordsFor(const std::vector<std::string>& names, const std::string& accountUrl,
                                                      const acme::Directory& directory) const;
  std::optional<TimePoint> persistUntil() const { return options_.persistUntil; }

 private:
  // "" when a record at `r.name` lets `issuers` and `r.record.accountUri` validate.
  Result<std::string> problemWith(const dns::RecordToCreate& r, const std::vector<std::string>& issuers);

  // Keeps what was found, with the time each record's state last changed.
  void remember(const std::vector<store::DnsRecord>& found);

  dns::Lookup& lookup_;
  PersistOptions options_;
  const TimeSource& clock_;
  store::DnsRecordFile* seen_;
};

}  // namespace sc::sources
