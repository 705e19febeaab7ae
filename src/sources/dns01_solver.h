#pragma once
// dns-01 over RFC 2136: for each name, a TXT record at _acme-challenge.<name>
// added by a (TSIG-signed) dynamic update, confirmed at every one of the zone's
// own servers before the CA is told, and removed afterwards. What was added is
// written down first (store/dns_record_file.h), so a crash or a failed removal
// leaves a list that the next start or order clears.
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "acme/solver.h"
#include "core/clock.h"
#include "dns/client.h"
#include "store/dns_record_file.h"

namespace sc::sources {

// How long the records may take to reach every one of the zone's own servers,
// counted from their first add, before the order is given up (the CA never told):
// secondaries take the primary's NOTIFY and transfer in seconds, but one that only
// refreshes on its SOA timer or a provider that batches takes minutes. lego waits
// 60 s (DefaultPropagationTimeout); 180 s lets a slow secondary catch up.
inline constexpr std::chrono::seconds kDefaultPropagationTimeout{180};
// How soon the servers are asked again while the records are not served: each
// look is one UDP question per server, so every 2 s costs the servers little and
// adds at most 2 s to an issuance.
inline constexpr std::chrono::milliseconds kDefaultPropagationPoll{2000};

struct Dns01Options {
  dns::Server server;  // the primary, which takes the updates
  std::string zone;    // empty: each name's SOA owner
  std::optional<dns::TsigKey> key;
  std::chrono::seconds propagationTimeout = kDefaultPropagationTimeout;
  std::chrono::milliseconds pollEvery = kDefaultPropagationPoll;
};

// RFC 8555 8.4: the record's name and value for one authorization.
std::string dns01RecordName(const std::string& identifier);
std::string dns01RecordValue(const std::string& keyAuthorization);

// present() never waits: it places the records (once), looks whether every one
// of the zone's servers serves them, and returns NotReady with retryAfter (the
// poll interval) while some does not. The caller presents the same tasks again
// after that; the timeout runs from the first add.
class Dns01Solver final : public acme::Solver {
 public:
  Dns01Solver(dns::Zones& dns, store::DnsRecordFile& journal, const TimeSource& clock, Dns01Options options)
      : dns_(dns), journal_(journal), clock_(clock), options_(std::move(options)) {}
  const char* type() const override { return "dns-01"; }
  // The zones are found before an order: a name no zone holds costs no order.
  Status readyToOrder(const std::vector<std::string>& names, const std::string& accountUrl,
                      const acme::Directory& directory) override;
  Status present(const std::vector<acme::ChallengeTask>& tasks) override;
  void cleanUp() override {
    placed_.reset();
    removeAll({});
  }
  void tidyUp() override { cleanUp(); }

 private:
  // The records this process added and waits on: sent once, looked at again at
  // each present() of the same tasks.
  struct Placed {
    std::vector<store::DnsRecord> records;
    TimePoint firstAdded;
    std::map<std::string, std::vector<dns::Server>> servers;  // by zone, found once
    std::vector<std::string> served;                           // "name value at server", seen served
  };

  Result<std::string> zoneFor(const std::string& recordName);
  Status add(const std::vector<store::DnsRecord>& records);
  bool alreadyPlaced(const std::vector<store::DnsRecord>& wanted);
  // The servers `zone`'s records are checked at, found within what is left of the timeout.
  Result<std::vector<dns::Server>> serversOf(const std::string& zone);
  // What the first record some server does not serve yet lacks, said as a person
  // would check it; none when all are served.
  Result<std::optional<std::string>> notYetServed(const std::vector<store::DnsRecord>& records);
  Status servedOrNotReady(const std::vector<store::DnsRecord>& records);
  std::chrono::milliseconds waited() const;
  // Removes what the journal lists, but `keep`; a removal that fails stays listed.
  void removeAll(const std::vector<store::DnsRecord>& keep);

  dns::Zones& dns_;
  store::DnsRecordFile& journal_;
  const TimeSource& clock_;
  Dns01Options options_;
  std::map<std::string, std::string> zones_;  // by record name
  std::optional<Placed> placed_;
};

}  // namespace sc::sources
