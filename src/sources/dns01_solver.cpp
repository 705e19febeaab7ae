#include "sources/dns01_solver.h"

#include <algorithm>
#include <set>

#include "core/domain.h"
#include "crypto/encoding.h"
#include "log/log.h"

namespace sc::sources {
namespace {

using store::DnsRecord;

bool listed(const std::vector<DnsRecord>& list, const DnsRecord& r) {
  return std::find(list.begin(), list.end(), r) != list.end();
}

bool within(const std::string& name, const std::string& zone) {
  return name == zone || (name.size() > zone.size() && name.ends_with("." + zone));
}

std::string joinedServers(const std::vector<dns::Server>& servers) {
  std::string out;
  for (const auto& s : servers) out += (out.empty() ? "" : ", ") + s.describe();
  return out;
}

// The records of `list` by the server and zone one update goes to.
std::map<std::pair<std::string, std::string>, std::vector<DnsRecord>> byUpdate(const std::vector<DnsRecord>& list) {
  std::map<std::pair<std::string, std::string>, std::vector<DnsRecord>> out;
  for (const auto& r : list) out[{r.server, r.zone}].push_back(r);
  return out;
}

std::vector<dns::TxtChange> changesOf(const std::vector<DnsRecord>& records, bool add) {
  std::vector<dns::TxtChange> out;
  for (const auto& r : records) out.push_back({r.name, r.value, add});
  return out;
}

}  // namespace

std::string dns01RecordName(const std::string& identifier) { return "_acme-challenge." + identifier; }

std::string dns01RecordValue(const std::string& keyAuthorization) {
  return crypto::base64url(crypto::sha256(keyAuthorization));
}

// The configured zone must hold the name; one found by SOA must too (an answer
// naming another zone is not believed).
Result<std::string> Dns01Solver::zoneFor(const std::string& recordName) {
  if (auto known = zones_.find(recordName); known != zones_.end()) return known->second;
  std::string zone = options_.zone;
  if (zone.empty()) {
    auto found = dns_.zoneOf(recordName);
    if (!found) return wrap("find the zone of " + recordName + " for dns-01 (or set SIDECERT_DNS_ZONE)", found.error());
    zone = *found;
  }
  if (!within(recordName, zone))
    return fail("dns-01: " + recordName + " is not in the zone " + zone +
                (options_.zone.empty() ? " that DNS named for it" : ": set SIDECERT_DNS_ZONE to the zone that holds it"));
  zones_[recordName] = zone;
  return zone;
}

Status Dns01Solver::readyToOrder(const std::vector<std::string>& names, const std::string&, const acme::Directory&) {
  for (const auto& n : names)
    if (auto zone = zoneFor(dns01RecordName(challengeDomain(n))); !zone) return std::unexpected(zone.error());
  return {};
}

Status Dns01Solver::add(const std::vector<DnsRecord>& records) {
  // Listed before they are sent: a crash in between leaves a record we know of.
  auto listedNow = journal_.load();
  for (const auto& r : records)
    if (!listed(listedNow, r)) listedNow.push_back(r);
  if (auto ok = journal_.save(listedNow); !ok) return ok;
  for (const auto& [where, group] : byUpdate(records)) {
    auto server = dns::parseServer(where.first);
    if (!server) return std::unexpected(server.error());
    if (auto ok = dns_.update(*server, where.second, changesOf(group, true), options_.key); !ok)
      return wrap("dns-01: add the TXT records", ok.error());
    for (const auto& r : group)
      log::info("dns_record_added", {{"record", r.name}, {"zone", r.zone}, {"server", r.server}});
  }
  return {};
}

// The first record some server of its zone does not serve yet, said as a person
// would check it; none when all are served.
std::optional<std::string> Dns01Solver::notYetServed(const std::vector<DnsRecord>& records) {
  for (const auto& r : records) {
    auto servers = servedBy_.find(r.zone);
    if (servers == servedBy_.end()) {
      auto found = dns_.authoritativeServers(r.zone);
      // A zone whose servers cannot be found is checked at the primary, which holds it.
      std::vector<dns::Server> list = found && !found->empty() ? *found : std::vector{options_.server};
      if (!found) log::debug("dns_servers_unknown", {{"zone", r.zone}, {"error", found.error().message}});
      servers = servedBy_.emplace(r.zone, list).first;
    }
    for (const auto& s : servers->second) {
      auto values = dns_.txtAt(s, r.name);
      if (!values) return values.error().message;
      if (std::find(values->begin(), values->end(), r.value) == values->end())
        return s.describe() + " does not serve the TXT record " + r.name + " \"" + r.value + "\" yet";
    }
  }
  return std::nullopt;
}

Status Dns01Solver::waitUntilServed(const std::vector<DnsRecord>& records) {
  auto start = clock_.now();
  while (true) {
    auto missing = notYetServed(records);
    if (!missing) {
      std::string zones;
      for (const auto& [zone, servers] : servedBy_) zones += (zones.empty() ? "" : "; ") + zone + ": " + joinedServers(servers);
      log::info("dns_records_served", {{"records", std::to_string(records.size())}, {"servers", zones},
                                       {"waited_ms", std::to_string((clock_.now() - start).count())}});
      return {};
    }
    if (sleeper_.cancelled()) return failAs(ErrorKind::Cancelled, "stopped while waiting for the dns-01 records");
    if (clock_.now() - start >= options_.propagationTimeout)
      return fail("dns-01: after " + std::to_string(options_.propagationTimeout.count()) + " s, " + *missing +
                  "; the CA was not told (check that the zone's servers take the primary's updates)");
    sleeper_.sleep(options_.pollEvery);
  }
}

Status Dns01Solver::present(const std::vector<acme::ChallengeTask>& tasks) {
  servedBy_.clear();  // a zone's servers are asked for again at each order: NS records change
  std::vector<DnsRecord> wanted, toCheck;
  for (const auto& t : tasks) {
    if (t.keyAuthorization.empty()) return failAs(ErrorKind::Protocol, "the CA's dns-01 challenge for " + t.identifier + " has no token");
    std::string name = dns01RecordName(t.identifier);
    auto zone = zoneFor(name);
    if (!zone) return std::unexpected(zone.error());
    DnsRecord r{name, dns01RecordValue(t.keyAuthorization), options_.server.describe(), *zone};
    wanted.push_back(r);
    // One answered before a crash may be under validation now: it stays, and is
    // not waited for again.
    if (!t.answered) toCheck.push_back(r);
  }
  removeAll(wanted);
  if (auto ok = add(wanted); !ok) return ok;
  return waitUntilServed(toCheck);
}

void Dns01Solver::removeAll(const std::vector<DnsRecord>& keep) {
  auto listedNow = journal_.load();
  std::vector<DnsRecord> stay, gone;
  for (const auto& r : listedNow) (listed(keep, r) ? stay : gone).push_back(r);
  if (gone.empty()) return;
  for (const auto& [where, group] : byUpdate(gone)) {
    auto server = dns::parseServer(where.first);
    if (!server || where.second.empty()) {  // not a list sidecert wrote: nothing to send it to
      log::warn("dns_record_unreadable", {{"record", group.front().name}, {"server", where.first}});
      continue;
    }
    Status removed = dns_.update(*server, where.second, changesOf(group, false), options_.key);
    for (const auto& r : group) {
      if (removed) {
        log::info("dns_record_removed", {{"record", r.name}, {"zone", r.zone}, {"server", r.server}});
      } else {
        log::warn("dns_record_left", {{"record", r.name}, {"zone", r.zone}, {"server", r.server},
                                      {"error", removed.error().message}, {"next", "removed at the next order or start"}});
        stay.push_back(r);
      }
    }
  }
  if (auto ok = journal_.save(stay); !ok)
    log::warn("dns_record_journal_failed", {{"error", ok.error().message}});
}

}  // namespace sc::sources
