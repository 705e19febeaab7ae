#include "app/discovery.h"

#include <algorithm>
#include <iostream>

#include "core/duration.h"
#include "core/time_format.h"
#include "discover/allow.h"
#include "log/log.h"
#include "sources/cert_set.h"
#include "store/posix_fs.h"

namespace sc::app {

void addRememberedLineages(Settings& settings) {
  if (!settings.discover.on()) return;
  store::PosixFileSystem fs({settings.volume, settings.stateDir});
  auto taken = discover::takenBy(settings.certificates);
  for (const auto& [name, entry] : discover::Registry(fs, settings.stateDir).load()) {
    if (!entry.active()) continue;
    auto spec = certificateFrom(entry.values, entry.origin, settings);
    std::string why = !spec ? spec.error().message : taken.lineageNames.count(spec->name) ? "a configured certificate has its name" : "";
    if (spec && why.empty())
      for (const auto& n : spec->domains)
        if (!discover::allowedBy(n, settings.discover.allow)) why = "'" + n + "' is outside SIDECERT_DISCOVER_ALLOW";
    if (!why.empty()) {
      log::warn("discovered_not_resumed", {{"name", name}, {"from", entry.origin}, {"reason", why}});
      continue;
    }
    spec->discovered = true;
    settings.certificates.push_back(std::move(*spec));
  }
}

namespace {

std::vector<discover::Entry> retiredEntries(const Settings& settings) {
  store::PosixFileSystem fs({settings.volume, settings.stateDir});
  std::vector<discover::Entry> out;
  for (auto& [name, entry] : discover::Registry(fs, settings.stateDir).load())
    if (!entry.active()) out.push_back(std::move(entry));
  return out;
}

}  // namespace

std::string describeDiscovery(const Settings& s) {
  const auto& d = s.discover;
  if (!d.on()) return "off (SIDECERT_DISCOVER)";
  std::string allow;
  for (const auto& p : d.allow) allow += (allow.empty() ? "" : ",") + p;
  return std::string(d.mode == DiscoverSettings::Mode::Swarm ? "the swarm's services" : "this engine's containers") +
         " labelled sidecert.domains or with LETSENCRYPT_HOST, read through " + s.dockerSocket.string() +
         "; only names in " + allow + "; once up " + formatDuration(d.settle) + "; kept " + formatDuration(d.grace) +
         " after they go; a full read at least every " + formatDuration(d.resync);
}

Poco::JSON::Array retiredJson(const Settings& settings) {
  Poco::JSON::Array out;
  for (const auto& e : retiredEntries(settings)) {
    Poco::JSON::Object o(Poco::JSON_PRESERVE_KEY_ORDER);
    o.set("name", e.name);
    o.set("from", e.origin);
    o.set("gone_since", e.goneSince ? formatTime(*e.goneSince) : "");
    o.set("retired_at", formatTime(*e.retiredAt));
    out.add(o);
  }
  return out;
}

void printRetired(const Settings& settings) {
  for (const auto& e : retiredEntries(settings))
    std::cout << "\nname        " << e.name << " (retired: no longer renewed)\n"
              << "from        " << e.origin << "\n"
              << "gone_since  " << (e.goneSince ? formatTime(*e.goneSince) : "-") << "\n"
              << "retired_at  " << formatTime(*e.retiredAt) << "\n";
}

Result<std::unique_ptr<Discovery>> Discovery::start(Runtime& rt) {
  if (!rt.settings.discover.on()) return std::unique_ptr<Discovery>();
  std::unique_ptr<Discovery> d(new Discovery(rt));
  std::vector<CertificateSpec> configured;
  std::copy_if(rt.settings.certificates.begin(), rt.settings.certificates.end(), std::back_inserter(configured),
               [](const CertificateSpec& c) { return !c.discovered; });
  d->taken_ = discover::takenBy(configured);
  d->entries_ = d->registry_.load();
  const std::string socket = rt.settings.dockerSocket.string();
  auto discoverer = discover::Discoverer::start(
      rt.settings.discover, [&](int quit) { return std::make_unique<net::DockerSocket>(socket, quit); },
      [&](int quit) { return std::make_unique<net::DockerEvents>(socket, quit); }, rt.stop.fd());
  if (!discoverer) return std::unexpected(discoverer.error());
  d->discoverer_ = std::move(*discoverer);
  log::info("discovery_started",
            {{"mode", rt.settings.discover.mode == DiscoverSettings::Mode::Swarm ? "swarm services" : "containers"},
             {"socket", socket},
             {"remembered", static_cast<std::int64_t>(std::count_if(d->entries_.begin(), d->entries_.end(),
                                                                     [](const auto& e) { return e.second.active(); }))}});
  return d;
}

std::optional<TimePoint> Discovery::wakeAt() const {
  if (!recheckAt_) return graceEndsAt_;
  return graceEndsAt_ ? std::min(*recheckAt_, *graceEndsAt_) : recheckAt_;
}

void Discovery::onReading(LineageHost& host, TimePoint now) {
  auto reading = discoverer_->take();
  if (!reading) return;
  reading_ = std::move(reading);
  reconcileWith(host, now);
}

void Discovery::onTimer(LineageHost& host, TimePoint now) {
  if (reading_) return reconcileWith(host, now);
  auto plan = discover::expireGrace(entries_, now, rt_.settings.discover.grace);
  carryOut(plan, {}, host, now);
}

void Discovery::reconcileWith(LineageHost& host, TimePoint now) {
  discover::Known known;
  for (const auto& [name, e] : entries_)
    if (e.active()) known[name] = e.values;
  auto desired = discover::desiredSet(reading_->workloads, rt_.settings, taken_, known, now);
  logNew(desired, reading_->problems);
  recheckAt_ = desired.recheckAt;
  auto plan = discover::reconcile(desired, entries_, now, rt_.settings.discover.grace);
  carryOut(plan, desired, host, now);
}

void Discovery::carryOut(const discover::Plan& plan, const discover::Desired& desired, LineageHost& host,
                         TimePoint now) {
  graceEndsAt_ = plan.wakeAt;
  if (plan.empty() && plan.next == entries_) return;
  // Remembered before acting: a crash in between resumes these lineages, not others.
  entries_ = plan.next;
  if (auto ok = registry_.save(entries_); !ok)
    log::error("discovery_not_saved", {{"error", ok.error().message},
                                       {"effect", "a restart takes up the lineages discovered before this change"}});
  auto specOf = [&](const std::string& name) {
    CertificateSpec spec = desired.lineages.at(name).spec;
    spec.discovered = true;
    return spec;
  };
  for (const auto& name : plan.add) {
    const auto& spec = desired.lineages.at(name).spec;
    log::info("discovered", {{"name", name}, {"names", sources::joinNames(spec.domains)}, {"from", entries_.at(name).origin}});
    host.addLineage(specOf(name));
  }
  for (const auto& name : plan.change) {
    log::info("discovered_changed", {{"name", name}, {"names", sources::joinNames(desired.lineages.at(name).spec.domains)},
                                     {"from", entries_.at(name).origin}});
    host.replaceLineage(specOf(name));
  }
  for (const auto& name : plan.gone)
    log::info("discovered_gone", {{"name", name}, {"from", entries_.at(name).origin},
                                  {"retire_at", formatTime(now + rt_.settings.discover.grace)}});
  for (const auto& name : plan.back) log::info("discovered_back", {{"name", name}, {"from", entries_.at(name).origin}});
  for (const auto& name : plan.retire) {
    log::info("discovered_retired", {{"name", name}, {"from", entries_.at(name).origin},
                                     {"gone_since", formatTime(*entries_.at(name).goneSince)}});
    host.retireLineage(name);
  }
}

// Each refusal once while it lasts: a label that stays wrong is not said at every read.
void Discovery::logNew(const discover::Desired& desired, const std::vector<std::string>& problems) {
  std::set<std::string> now;
  for (const auto& r : desired.refused) {
    std::string key = r.workload + "|" + r.reason;
    if (!logged_.count(key)) log::warn("discovery_refused", {{"from", r.workload}, {"reason", r.reason}});
    now.insert(key);
  }
  for (const auto& n : desired.notes) {
    std::string key = n.workload + "|" + n.reason;
    if (!logged_.count(key)) log::info("discovery_note", {{"from", n.workload}, {"note", n.reason}});
    now.insert(key);
  }
  for (const auto& p : problems) {
    if (!logged_.count(p)) log::warn("discovery_skipped", {{"reason", p}});
    now.insert(p);
  }
  logged_ = std::move(now);
}

}  // namespace sc::app
