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

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : "; ") + i;
  return out;
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

bool Dns01Solver::alreadyPlaced(const std::vector<DnsRecord>& wanted) {
  if (!placed_ || placed_->records.size() != wanted.size()) return false;
  auto listedNow = journal_.load();
  return std::all_of(wanted.begin(), wanted.end(),
                     [&](const DnsRecord& r) { return listed(placed_->records, r) && listed(listedNow, r); });
}

std::chrono::milliseconds Dns01Solver::waited() const {
  return placed_ ? std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now() - placed_->firstAdded)
                 : std::chrono::milliseconds(0);
}

// Found once per placement (NS records change, so not kept across orders), and
// only within what is left of the timeout: the lookup's own time counts against it.
Result<std::vector<dns::Server>> Dns01Solver::serversOf(const std::string& zone) {
  if (auto known = placed_->servers.find(zone); known != placed_->servers.end()) return known->second;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(options_.propagationTimeout) - waited();
  if (left.count() <= 0) return fail("the zone " + zone + "'s own servers were not looked up: no time was left");
  auto found = dns_.authoritativeServers(zone, left);
  if (!found && found.error().is(ErrorKind::Cancelled)) return std::unexpected(found.error());
  std::vector<dns::Server> asked = found ? found->servers : std::vector<dns::Server>{};
  std::string unresolved = found ? joined(found->unresolved) : found.error().message;
  std::string note = "each of the zone's own servers must serve the records";
  if (asked.empty()) {  // the primary holds the zone: it is asked, though the CA's resolvers may see others
    asked = {options_.server};
    note = "no NS name of the zone resolved: only the primary, which takes the updates, is asked";
  }
  log::info("dns_zone_servers", {{"zone", zone}, {"asked", joinedServers(asked)},
                                 {"unresolved", unresolved.empty() ? "none" : unresolved}, {"note", note}});
  placed_->servers[zone] = asked;
  return asked;
}

Result<std::optional<std::string>> Dns01Solver::notYetServed(const std::vector<DnsRecord>& records) {
  for (const auto& r : records) {
    auto servers = serversOf(r.zone);
    if (!servers && servers.error().is(ErrorKind::Cancelled)) return std::unexpected(servers.error());
    if (!servers) return servers.error().message;
    for (const auto& s : *servers) {
      std::string seen = r.name + " " + r.value + " at " + s.describe();
      if (std::find(placed_->served.begin(), placed_->served.end(), seen) != placed_->served.end()) continue;
      auto answer = dns_.txtAt(s, r.name);
      if (!answer && answer.error().is(ErrorKind::Cancelled)) return std::unexpected(answer.error());
      if (!answer) return answer.error().message;
      // A server that is not (yet) one of the zone's answers from a cache or a
      // stale copy: what it says is not what the CA's resolvers will be told.
      if (!answer->authoritative)
        return s.describe() + " answers for " + r.name + " without the authoritative flag (AA): it does not serve " +
               "the zone " + r.zone + " (yet)";
      if (std::find(answer->values.begin(), answer->values.end(), r.value) == answer->values.end())
        return s.describe() + " does not serve the TXT record " + r.name + " \"" + r.value + "\" yet";
      placed_->served.push_back(seen);
    }
  }
  return std::optional<std::string>{};
}

Status Dns01Solver::servedOrNotReady(const std::vector<DnsRecord>& records) {
  auto missing = notYetServed(records);
  if (!missing) return std::unexpected(missing.error());
  auto waitedMs = waited();
  if (!*missing) {
    std::string zones;
    for (const auto& [zone, servers] : placed_->servers)
      zones += (zones.empty() ? "" : "; ") + zone + ": " + joinedServers(servers);
    log::info("dns_records_served", {{"records", std::to_string(records.size())}, {"servers", zones},
                                     {"waited_ms", std::to_string(waitedMs.count())}});
    return {};
  }
  auto timeout = options_.propagationTimeout.count();
  if (waitedMs >= options_.propagationTimeout)
    return fail("dns-01: after " + std::to_string(timeout) + " s, " + **missing +
                "; the CA was not told (check that the zone's servers take the primary's updates)");
  // Looked at again after one poll interval, in whole seconds as retryAfter counts.
  auto retry = std::max<std::chrono::seconds>(std::chrono::ceil<std::chrono::seconds>(options_.pollEvery),
                                               std::chrono::seconds(1));
  Error e;
  e.kind = ErrorKind::NotReady;
  e.retryAfter = retry;
  // The same words at every look while nothing changes: the lineage says a wait
  // again only when what it waits for changed.
  e.message = "dns-01: " + **missing + "; the CA is told once every server does (at most " +
              std::to_string(timeout) + " s after the records were added)";
  return std::unexpected(std::move(e));
}

Status Dns01Solver::present(const std::vector<acme::ChallengeTask>& tasks) {
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
  // The same records again (a present() that was not ready): only looked at.
  if (!alreadyPlaced(wanted)) {
    placed_.reset();
    removeAll(wanted);
    if (auto ok = add(wanted); !ok) return ok;
    placed_ = Placed{wanted, clock_.now(), {}, {}};
  }
  return servedOrNotReady(toCheck);
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
