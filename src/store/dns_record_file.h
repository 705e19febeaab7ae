#pragma once
// DNS records sidecert keeps a list of in its state folder, one file per lineage
// and use: the dns-01 records it added and has not removed yet (written before
// each update is sent, so a crash or a failed removal leaves a list that the next
// start or order clears), and the dns-persist-01 records as last looked up (what
// `status` shows without asking DNS).
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "store/fs.h"

namespace sc::store {

struct DnsRecord {
  std::string name;    // _acme-challenge.example.org
  std::string value;   // the TXT value
  std::string server;  // dns-01: where the update went (ADDRESS:PORT)
  std::string zone;    // dns-01: the zone updated
  std::string domain;  // dns-persist-01: the domain the record proves
  std::optional<bool> seen;        // dns-persist-01: found as needed at the last look
  std::optional<TimePoint> since;  // when `seen` became what it is
  bool operator==(const DnsRecord&) const = default;
};

class DnsRecordFile {
 public:
  // The file is `fileName` in stateDir (dns01-<lineage>.json, persist-<lineage>.json).
  DnsRecordFile(FileSystem& fs, Path stateDir, std::string fileName);
  // A missing or unreadable file is an empty list; a hostile one is read within
  // bounds, and an entry without a name and value is dropped.
  std::vector<DnsRecord> load();
  // An empty list removes the file.
  Status save(const std::vector<DnsRecord>& records);

 private:
  Path file() const { return root_ / fileName_; }
  FileSystem& fs_;
  Path root_;
  std::string fileName_;
};

}  // namespace sc::store
