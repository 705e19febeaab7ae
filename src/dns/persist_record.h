#pragma once
// The dns-persist-01 TXT record (draft-ietf-acme-dns-persist): one record a person
// creates once at _validation-persist.<domain>, naming the CA and the ACME account
// that may then issue for the domain, with no DNS credential anywhere. Its format
// lives here and nowhere else, versioned: draft-01 is what Let's Encrypt's staging
// CA and Pebble v2.10.1 speak; draft-02 will hash the account URI and move the
// issuer names into the directory.
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"

namespace sc::dns {

enum class PersistDraft { V01 };

struct PersistRecord {
  std::string issuer;       // one of the CA's issuer-domain-names
  std::string accountUri;   // the ACME account's URL
  bool wildcard = false;    // policy=wildcard: also *.<domain>
  std::optional<TimePoint> persistUntil;
};

// The owner name of the record for a domain (a wildcard's is its base domain's).
std::string persistRecordName(const std::string& domain);

// The record's text (the TXT value) for `draft`.
std::string persistRecordText(const PersistRecord& r, PersistDraft draft = PersistDraft::V01);

// Reads one TXT value as the CA would (RFC 8659 issue-value: an issuer domain
// name, then `tag=value` parameters separated by ';', tags case-insensitive, no
// tag twice). An error says what is malformed; hostile input is bounded.
Result<PersistRecord> parsePersistRecord(const std::string& text);

// Whether the TXT values found at the record's name let `want` (the account, one
// of the issuers, wildcard if needed) validate at `now`: "" when one does, else why
// none does, for the log line that tells a person what to create or fix.
std::string persistRecordProblem(const std::vector<std::string>& found, const std::vector<std::string>& issuers,
                                 const std::string& accountUri, bool wildcard, TimePoint now);

// The records a set of certificate names needs: one per base domain, with
// policy=wildcard where a wildcard of it is among the names (it also covers the
// base domain itself).
struct RecordToCreate {
  std::string domain;  // the base domain it is for
  std::string name;    // _validation-persist.<domain>
  PersistRecord record;
  std::string text() const { return persistRecordText(record); }
  // As a zone file line: _validation-persist.example.org. IN TXT "..."
  std::string zoneLine() const;
};
std::vector<RecordToCreate> persistRecordsFor(const std::vector<std::string>& names, const std::string& issuer,
                                              const std::string& accountUri, std::optional<TimePoint> persistUntil);

}  // namespace sc::dns
