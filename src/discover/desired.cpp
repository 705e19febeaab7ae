#include "discover/desired.h"

#include <algorithm>

#include "core/domain.h"
#include "core/time_format.h"
#include "discover/allow.h"

namespace sc::discover {

std::string Workload::describe() const {
  return std::string(kind == Kind::Container ? "container " : "service ") + name + " (" + id.substr(0, 12) + ")";
}

namespace {

// The labels sidecert reads, and the setting of one certificate each gives.
const std::map<std::string, std::string> kLabels = {
    {"sidecert.domains", "domains"},         {"sidecert.name", "name"},
    {"sidecert.challenge", "challenge"},     {"sidecert.key_type", "key_type"},
    {"sidecert.acme_profile", "acme_profile"}, {"sidecert.renew_before", "renew_before"},
};

// acme-companion's: in the labels or the environment, comma-separated.
constexpr const char* kCompanionHost = "LETSENCRYPT_HOST";

std::optional<std::string> companionHost(const Workload& w) {
  if (auto it = w.labels.find(kCompanionHost); it != w.labels.end()) return it->second;
  if (auto it = w.env.find(kCompanionHost); it != w.env.end()) return it->second;
  return std::nullopt;
}

std::optional<std::string> companionEmail(const Workload& w) {
  for (const auto* from : {&w.labels, &w.env})
    if (auto it = from->find("LETSENCRYPT_EMAIL"); it != from->end()) return it->second;
  return std::nullopt;
}

// The folder name a lineage gets when no label names it: its first name, a
// wildcard's base domain, an IPv6 address with '_' for ':'.
std::string defaultName(const std::string& domains) {
  std::string first = domains.substr(0, domains.find(','));
  first.erase(0, first.find_first_not_of(" \t"));
  first.erase(first.find_last_not_of(" \t") + 1);
  std::string name = challengeDomain(first);
  std::replace(name.begin(), name.end(), ':', '_');
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  return name;
}

struct Candidate {
  const Workload* workload;
  Wanted wanted;
};

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ",") + i;
  return out;
}

// The workload's lineage, checked; or why it gets none.
std::optional<Candidate> candidateOf(const Workload& w, const Settings& settings, std::vector<Refusal>& refused) {
  auto values = requestedValues(w);
  for (const auto& [label, value] : w.labels)
    if (label.rfind("sidecert.", 0) == 0 && !kLabels.count(label))
      refused.push_back({w.describe(), "label " + label + " is not one sidecert reads (sidecert.domains, "
                                       "sidecert.name, sidecert.challenge, sidecert.key_type, "
                                       "sidecert.acme_profile, sidecert.renew_before)"});
  if (!values) return std::nullopt;
  auto spec = certificateFrom(*values, w.describe(), settings);
  if (!spec) {
    std::string why = spec.error().message;
    if (why.rfind(w.describe() + ": ", 0) == 0) why.erase(0, w.describe().size() + 2);  // said once, as `from`
    refused.push_back({w.describe(), why});
    return std::nullopt;
  }
  for (const auto& name : spec->domains)
    if (!allowedBy(name, settings.discover.allow)) {
      refused.push_back({w.describe(), "'" + name + "' is outside SIDECERT_DISCOVER_ALLOW (" +
                                           joined(settings.discover.allow) + "): nothing is ordered for it"});
      return std::nullopt;
    }
  return Candidate{&w, Wanted{std::move(*spec), std::move(*values), w.describe()}};
}

// Up longest first, then by ID: the same winner at every read.
bool olderFirst(const Candidate& a, const Candidate& b) {
  auto ta = a.workload->upSince.value_or(latestTime()), tb = b.workload->upSince.value_or(latestTime());
  return ta != tb ? ta < tb : a.workload->id < b.workload->id;
}

}  // namespace

std::optional<std::map<std::string, DiscoveredValue>> requestedValues(const Workload& w) {
  std::map<std::string, DiscoveredValue> values;
  for (const auto& [label, key] : kLabels)
    if (auto it = w.labels.find(label); it != w.labels.end()) values[key] = {it->second, label};
  if (!values.count("domains"))
    if (auto host = companionHost(w)) values["domains"] = {*host, kCompanionHost};
  if (!values.count("domains")) return std::nullopt;
  if (!values.count("name")) values["name"] = {defaultName(values["domains"].text), values["domains"].label};
  return values;
}

Taken takenBy(const std::vector<CertificateSpec>& configured) {
  Taken t;
  for (const auto& c : configured) {
    t.lineageNames.insert(c.name);
    t.names.insert(c.domains.begin(), c.domains.end());
  }
  return t;
}

Desired desiredSet(const std::vector<Workload>& workloads, const Settings& settings, const Taken& taken,
                   const Known& known, TimePoint now) {
  Desired out;
  std::vector<Candidate> candidates;
  for (const auto& w : workloads) {
    if (!w.running) continue;
    auto c = candidateOf(w, settings, out.refused);
    if (!c) continue;
    TimePoint settled = w.upSince.value_or(now) + settings.discover.settle;
    auto runs = known.find(c->wanted.spec.name);
    bool asBefore = runs != known.end() && runs->second == c->wanted.values;
    if (!asBefore && (!w.upSince || now < settled)) {
      // Up too briefly to be sure it stays: a crash loop orders nothing.
      out.recheckAt = std::min(out.recheckAt.value_or(settled), settled);
      if (runs != known.end()) out.pending.insert(runs->first);
      continue;
    }
    candidates.push_back(std::move(*c));
  }
  std::sort(candidates.begin(), candidates.end(), olderFirst);
  std::map<std::string, std::string> nameOwner;  // a name -> who has it
  for (const auto& n : taken.names) nameOwner[n] = "the configured certificates";
  for (auto& c : candidates) {
    const CertificateSpec& spec = c.wanted.spec;
    if (taken.lineageNames.count(spec.name) || out.lineages.count(spec.name)) {
      std::string holder = taken.lineageNames.count(spec.name) ? "a configured certificate"
                                                               : out.lineages.at(spec.name).origin;
      out.refused.push_back({c.wanted.origin, "asks for the lineage '" + spec.name + "', which " + holder +
                                                  " already has: give it its own sidecert.name"});
      continue;
    }
    auto clash = std::find_if(spec.domains.begin(), spec.domains.end(),
                              [&](const std::string& n) { return nameOwner.count(n) > 0; });
    if (clash != spec.domains.end()) {
      out.refused.push_back({c.wanted.origin, "asks for '" + *clash + "', which " + nameOwner.at(*clash) +
                                                  " already has: one certificate per name"});
      continue;
    }
    if (auto email = companionEmail(*c.workload); email && *email != settings.email)
      out.notes.push_back({c.wanted.origin, "LETSENCRYPT_EMAIL " + *email + " is not used: sidecert keeps one ACME "
                                            "account per CA, whose contact is SIDECERT_EMAIL (" +
                                            (settings.email.empty() ? "none" : settings.email) + ")"});
    for (const auto& n : spec.domains) nameOwner[n] = c.wanted.origin;
    out.lineages.emplace(spec.name, std::move(c.wanted));
  }
  return out;
}

}  // namespace sc::discover
