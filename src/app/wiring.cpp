#include "app/wiring.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>

#include "app/commands.h"
#include "app/pass_pool.h"
#include "app/privileges.h"
#include "config/load.h"
#include "log/log.h"
#include "reload/command_reloader.h"
#include "reload/signal_reloader.h"
#include "reload/docker_reloader.h"
#include "sources/dns01_solver.h"
#include "sources/http01_solver.h"
#include "sources/webroot_solver.h"
#include "swarm/publisher.h"

namespace sc::app {

Policy policyFrom(const Settings& s, const CertificateSpec& c) {
  Policy p;
  p.names = c.domains;
  if (!s.domainsFromHostname) p.requiredNames = c.domains;
  p.keyType = c.keyType;
  p.renewBefore = c.renewBefore;
  p.checkInterval = s.checkInterval;
  p.userGrace = s.userGrace;
  p.orderBudget = {s.orderBudget, s.orderWindow};
  return p;
}

Result<std::optional<gid_t>> resolveGroup(const std::string& group) {
  if (group.empty()) return std::optional<gid_t>();
  if (std::all_of(group.begin(), group.end(), ::isdigit)) {
    auto gid = numericGroup(group);
    if (!gid) return fail("SIDECERT_FILE_GROUP: '" + group + "' is not a group number");
    return std::optional<gid_t>(*gid);
  }
  struct group* g = ::getgrnam(group.c_str());
  if (!g) return fail("SIDECERT_FILE_GROUP: no group named '" + group + "' on this system");
  return std::optional<gid_t>(g->gr_gid);
}

Result<std::optional<uid_t>> resolveOwner(const std::string& user) {
  if (user.empty()) return std::optional<uid_t>();
  if (std::all_of(user.begin(), user.end(), ::isdigit)) {
    auto uid = numericGroup(user);  // the same range: 0 to 2^32-2
    if (!uid) return fail("SIDECERT_FILE_OWNER: '" + user + "' is not a user number");
    return std::optional<uid_t>(static_cast<uid_t>(*uid));
  }
  struct passwd* p = ::getpwnam(user.c_str());
  if (!p) return fail("SIDECERT_FILE_OWNER: no user named '" + user + "' on this system; give its number");
  return std::optional<uid_t>(p->pw_uid);
}

// The folders sidecert works in; a path under none is refused (store/posix_fs.h).
static std::vector<store::Path> fileSystemRoots(const Settings& s) {
  std::vector<store::Path> roots{s.volume, s.stateDir};
  if (!s.http01Webroot.empty()) roots.push_back(s.http01Webroot);
  return roots;
}

Runtime::Runtime(Settings s, StopSignal stopSignal)
    : settings(std::move(s)),
      stop(std::move(stopSignal)),
      fs(fileSystemRoots(settings)),
      accounts(fs, settings.stateDir),
      paces(fs, settings),
      tokens(std::make_shared<http01::TokenStore>()),
      transports({settings.acmeCaBundle, std::string("sidecert/") + SIDECERT_VERSION, stop.fd()}, kConcurrentPasses),
      views(fs, settings.volume, {settings.layout == Layout::NginxProxy}) {}

LineageRuntime::LineageRuntime(Runtime& rt, CertificateSpec c, store::Publishing publishing)
    : spec(std::move(c)),
      volume(rt.fs, rt.settings.volume, rt.settings.stateDir, spec.name, publishing),
      state(rt.fs, rt.settings.stateDir, spec.name),
      transport(rt.transports),
      sleeper(rt.stop),
      pollSleeper(sleeper, *rt.tokens) {
  const Settings& s = rt.settings;
  if (rt.swarm && spec.reload.kind == ReloadSpec::Kind::Swarm) {
    probe = std::make_unique<net::CurlProbe>(rt.stop.fd());
    gatewayCheck = std::make_unique<swarm::GatewayCheck>(*rt.swarm, spec.reload.target, *probe, sleeper);
  }
  std::vector<sources::CertSource*> issuers;
  solver = makeSolver(rt);
  for (const auto& url : spec.selfSignedOnly ? std::vector<std::string>{} : s.acmeDirectories) {
    sources::AcmeOptions o{url, {s.email, s.eabKid, s.eabHmacKey}, spec.acmeProfile, s.preferredChain, spec.keyType};
    acme.push_back(std::make_unique<sources::AcmeSource>(o, transport, pollSleeper, *solver, rt.accounts));
    issuers.push_back(acme.back().get());
  }
  issuers.push_back(&rt.selfSigned);
  reloader = makeReloader(rt, publishing);
  lineage = std::make_unique<Lineage>(policyFrom(s, spec), volume, state, issuers, *reloader);
  auto now = systemTime().now();
  for (const auto& source : acme) lineage->setAccountPace(source->id(), rt.paces.forCa(source->id(), now), now);
  if (rt.swarm) lineage->setOrderGuard([session = rt.swarm.get()] { return session->mayAct(); });
  if (isDnsChallenge(spec.challenge) && !acme.empty()) lineage->setAfterFirstPass([this] { startDnsChallenge(*this); });
  // A gateway about to be told waits for views that hold the new set; without a
  // reload action nobody is told, and a refresh under way may cover it. The views
  // name live/<name>, not the set in it: while they hold this lineage as published,
  // its later publishes (a renewal, a user's set) change nothing there, and are not
  // held up by a rebuild of every lineage's views (0.1-0.3 s at 10,000 lineages).
  // A round that found live/<name> empty (a user removed it), or failed, left it
  // out: its next publish brings it back.
  lineage->setAfterPublish([&rt, this, tells = spec.reload.kind != ReloadSpec::Kind::None] {
    if (!rt.viewsHold(*this)) rt.viewsChanged(tells);
  });
  // Webroot: token files a crash left go after the first pass, unless an order is
  // open (its resumption writes what it still needs, and removes it after).
  if (spec.challenge == ChallengeType::Http01 && !s.http01Webroot.empty() && !acme.empty())
    lineage->setAfterFirstPass([this] {
      if (!state.load().pendingOrder) solver->tidyUp();
    });
}

std::unique_ptr<acme::Solver> LineageRuntime::makeSolver(Runtime& rt) {
  const Settings& s = rt.settings;
  if (spec.challenge == ChallengeType::Http01 && !s.http01Webroot.empty())
    return std::make_unique<sources::WebrootSolver>(
        store::Webroot(rt.fs, s.http01Webroot, s.stateDir / ("webroot-" + spec.name + ".tokens")),
        responderListens(s) ? rt.tokens.get() : nullptr, gatewayCheck.get());
  if (spec.challenge == ChallengeType::Http01)
    return std::make_unique<sources::Http01Solver>(*rt.tokens, gatewayCheck.get());
  dns = std::make_unique<dns::Client>(rt.dnsResolvers, rt.stop.fd());
  dnsRecords = std::make_unique<store::DnsRecordFile>(rt.fs, s.stateDir, dnsRecordFileName(spec));
  if (spec.challenge == ChallengeType::DnsPersist01) {
    auto made = std::make_unique<sources::DnsPersistSolver>(
        *dns, sources::PersistOptions{s.dns.persistIssuer, s.dns.persistUntil}, systemTime(), dnsRecords.get());
    persist = made.get();
    return made;
  }
  sources::Dns01Options o;
  o.server = dns::parseServer(s.dns.server).value_or(dns::Server{});  // checked by the settings
  o.zone = s.dns.zone;
  if (!s.dns.tsigKey.empty()) o.key = dns::TsigKey{s.dns.tsigKey, s.dns.tsigAlgorithm, s.dns.tsigSecret};
  return std::make_unique<sources::Dns01Solver>(*dns, *dnsRecords, systemTime(), o);
}

std::string dnsRecordFileName(const CertificateSpec& spec) {
  return (spec.challenge == ChallengeType::Dns01 ? "dns01-" : "persist-") + spec.name + ".json";
}

Result<std::vector<dns::Server>> dnsResolvers(const Settings& settings) {
  if (settings.dns.resolvers.empty()) return dns::Client::systemResolvers();
  std::vector<dns::Server> out;
  for (const auto& r : settings.dns.resolvers) {
    auto server = dns::parseServer(r);
    if (!server) return wrap("SIDECERT_DNS_RESOLVER", server.error());
    out.push_back(*server);
  }
  return out;
}

bool responderListens(const Settings& s) {
  if (!usesChallenge(s, ChallengeType::Http01)) return false;
  if (s.http01Webroot.empty()) return true;
  auto listen = s.origins.find("http01_listen");
  return listen != s.origins.end() && listen->second != "default";
}

bool Runtime::usesResponder() const {
  return usesAcme() && responderListens(settings);
}

std::unique_ptr<reload::Reloader> LineageRuntime::makeReloader(Runtime& rt, const store::Publishing& publishing) {
  const auto& spec = this->spec.reload;
  using Kind = ReloadSpec::Kind;
  using Mode = reload::DockerReloader::Mode;
  switch (spec.kind) {
    case Kind::Command: return std::make_unique<reload::CommandReloader>(spec.argv, rt.settings.reloadTimeout, rt.stop.fd());
    case Kind::Signal: return std::make_unique<reload::SignalReloader>(rt.processes, spec.target, spec.signal);
    case Kind::DockerRestart:
    case Kind::DockerExec:
    case Kind::DockerService: {
      docker = std::make_unique<net::DockerSocket>(rt.settings.dockerSocket.string(), rt.stop.fd());
      char host[256] = {0};
      ::gethostname(host, sizeof host - 1);  // Docker sets it to the container's ID
      Mode mode = spec.kind == Kind::DockerRestart ? Mode::RestartContainer
                  : spec.kind == Kind::DockerExec  ? Mode::Exec
                                                   : Mode::UpdateService;
      return std::make_unique<reload::DockerReloader>(*docker, mode, spec.target, host, spec.argv);
    }
    case Kind::Swarm: {
      swarm::PublishTarget target{spec.target, spec.dir};
      target.uid = publishing.owner.value_or(0);
      target.gid = publishing.keyGroup.value_or(0);
      target.keyMode = publishing.modeOf("privkey.pem");
      target.certMode = publishing.certMode;
      return std::make_unique<swarm::SwarmPublisher>(*rt.swarm, target);
    }
    case Kind::None: break;
  }
  return std::make_unique<reload::NoReload>();
}

Status Runtime::prepareVolumes() {
  for (auto& l : lineages)
    if (auto ok = l->volume.prepare(); !ok) return wrap("prepare " + l->name(), ok.error());
  viewsKept = keepsGatewayViews(settings);
  refreshViews();
  return {};
}

// A volume of one configured certificate stays certbot's layout alone, as its
// gateway's config names the files; the views are for gateways that serve several
// by name, or whose names come and go.
bool keepsGatewayViews(const Settings& s) {
  return s.discover.on() || s.layout == Layout::NginxProxy || s.certificates.size() > 1;
}

void Runtime::refreshViews() {
  if (!viewsKept) return;
  // Held through the update: two refreshes never apply their lists out of order.
  std::lock_guard lock(lineagesMutex);
  std::vector<store::LineageEntry> list;
  for (const auto& l : lineages) {
    auto published = l->volume.holdsSet();  // from memory: no look at the volume per lineage per publish
    list.push_back({l->name(), l->spec.domains, published && *published});
  }
  const bool written = views.update(list).has_value();  // failures are logged by the views
  for (std::size_t i = 0; i < lineages.size(); ++i) lineages[i]->inViews = written && list[i].published;
}

bool Runtime::viewsHold(const LineageRuntime& l) {
  std::lock_guard lock(lineagesMutex);
  return l.inViews;
}

void Runtime::viewsChanged(bool wait) {
  std::unique_lock lock(viewsRoundMutex);
  const std::uint64_t mine = ++viewsMarks;
  if (viewsRefreshing) {
    if (wait) viewsCovered.wait(lock, [&] { return viewsMarksCovered >= mine; });
    return;
  }
  viewsRefreshing = true;
  while (viewsMarksCovered < viewsMarks) {  // rounds until no publish is left uncovered
    const std::uint64_t covers = viewsMarks;
    lock.unlock();
    refreshViews();
    lock.lock();
    viewsMarksCovered = covers;
    viewsCovered.notify_all();
  }
  viewsRefreshing = false;
}

Status Runtime::bindResponder() {
  if (!usesResponder() || responder) return {};
  auto r = http01::Responder::bind(settings.http01Host, settings.http01Port, tokens);
  if (!r) return std::unexpected(r.error());
  responder = std::move(*r);
  return {};
}

Status Runtime::dropPrivileges() {
  Needs needs;
  needs.chownToGroup = !settings.fileGroup.empty() || !settings.fileOwner.empty();
  needs.signalOthers = std::any_of(settings.certificates.begin(), settings.certificates.end(),
                                   [](const CertificateSpec& c) { return c.reload.kind == ReloadSpec::Kind::Signal; });
  auto dropped = app::dropPrivileges(needs);
  if (!dropped) return wrap("give up the capabilities sidecert does not use", dropped.error());
  std::string kept;
  for (const auto& k : dropped->kept) kept += (kept.empty() ? "" : ",") + k;
  log::info("privileges_dropped", {{"dropped", dropped->dropped},
                                   {"kept", kept.empty() ? "none" : kept},
                                   {"bounding_set", dropped->boundingEmptied ? "emptied" : "as the runtime set it"},
                                   {"no_new_privs", true}});
  return {};
}

Status Runtime::startResponder() {
  if (!usesResponder() || responderStarted) return {};
  if (auto bound = bindResponder(); !bound) return bound;
  responder->start();
  responderStarted = true;
  log::info("responder_listening", {{"address", describeListen(settings)}});
  return {};
}

std::string hostName() {
  char buf[256] = {0};
  ::gethostname(buf, sizeof buf - 1);
  return buf;
}

Result<store::Publishing> publishingFrom(const Settings& settings) {
  auto gid = resolveGroup(settings.fileGroup);
  if (!gid) return std::unexpected(gid.error());
  auto uid = resolveOwner(settings.fileOwner);
  if (!uid) return std::unexpected(uid.error());
  store::Publishing p;
  p.owner = *uid;
  p.keyGroup = *gid;
  if (settings.keyMode) p.keyMode = static_cast<mode_t>(*settings.keyMode);
  p.certMode = static_cast<mode_t>(settings.certMode);
  return p;
}

// Takes the settings by value: `run` moves its own in, so that 10,000 lineages'
// specs are not kept twice for the life of the process.
Result<std::unique_ptr<Runtime>> buildRuntime(Settings given) {
  auto publishing = publishingFrom(given);
  if (!publishing) return std::unexpected(publishing.error());
  auto stop = StopSignal::create();
  if (!stop) return std::unexpected(stop.error());
  auto rt = std::make_unique<Runtime>(std::move(given), std::move(*stop));
  const Settings& settings = rt->settings;
  if (std::any_of(settings.certificates.begin(), settings.certificates.end(),
                  [](const CertificateSpec& c) { return c.reload.kind == ReloadSpec::Kind::Swarm; })) {
    rt->swarmEngine = std::make_unique<net::DockerSocket>(settings.dockerSocket.string(), rt->stop.fd());
    rt->swarm = std::make_unique<swarm::Session>(*rt->swarmEngine, hostName(), std::string("/run/secrets/") + swarm::kSealTarget,
                                                 systemTime());
  }
  if (usesDnsChallenge(settings)) {
    auto resolvers = dnsResolvers(settings);
    if (!resolvers) return std::unexpected(resolvers.error());
    rt->dnsResolvers = std::move(*resolvers);
  }
  for (const auto& spec : rt->settings.certificates)
    if (auto added = addLineage(*rt, spec); !added) return std::unexpected(added.error());
  return rt;
}

Result<LineageRuntime*> addLineage(Runtime& rt, const CertificateSpec& spec) {
  auto publishing = publishingFrom(rt.settings);
  if (!publishing) return std::unexpected(publishing.error());
  auto made = std::make_unique<LineageRuntime>(rt, spec, *publishing);
  LineageRuntime* added = made.get();
  {
    std::lock_guard lock(rt.lineagesMutex);
    rt.lineages.push_back(std::move(made));
  }
  rt.refreshViews();  // a set already in live/<name> is served under its names at once
  return added;
}

void removeLineage(Runtime& rt, const LineageRuntime* lineage) {
  {
    std::lock_guard lock(rt.lineagesMutex);
    std::erase_if(rt.lineages, [&](const std::unique_ptr<LineageRuntime>& l) { return l.get() == lineage; });
  }
  rt.refreshViews();  // its names leave the views
}

}  // namespace sc::app
