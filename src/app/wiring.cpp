#include "app/wiring.h"

#include <grp.h>
#include <unistd.h>

#include <algorithm>

#include "app/privileges.h"
#include "config/load.h"
#include "log/log.h"
#include "reload/command_reloader.h"
#include "reload/signal_reloader.h"

namespace sc::app {

Policy policyFrom(const Settings& s) {
  Policy p;
  p.names = s.domains;
  if (!s.domainsFromHostname) p.requiredNames = s.domains;
  p.keyType = s.keyType;
  p.renewBefore = s.renewBefore;
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

Runtime::Runtime(Settings s, std::optional<gid_t> keyGroup, StopSignal stopSignal,
                 std::unique_ptr<net::CurlTransport> http)
    : settings(std::move(s)),
      stop(std::move(stopSignal)),
      fs({settings.volume, settings.stateDir}),
      volume(fs, settings.volume, settings.stateDir, settings.name, keyGroup),
      state(fs, settings.stateDir, settings.name),
      accounts(fs, settings.stateDir),
      transport(std::move(http)),
      tokens(std::make_shared<http01::TokenStore>()) {
  std::vector<sources::CertSource*> issuers;
  for (const auto& url : settings.acmeDirectories) {
    sources::AcmeOptions o{url, {settings.email, settings.eabKid, settings.eabHmacKey}, settings.acmeProfile,
                           settings.preferredChain, settings.keyType};
    acme.push_back(std::make_unique<sources::AcmeSource>(o, *transport, pollSleeper, *tokens, accounts));
    issuers.push_back(acme.back().get());
  }
  issuers.push_back(&selfSigned);
  reloader = makeReloader();
  lineage = std::make_unique<Lineage>(policyFrom(settings), volume, state, issuers, *reloader);
}

std::unique_ptr<reload::Reloader> Runtime::makeReloader() {
  const auto& spec = settings.reload;
  using Kind = ReloadSpec::Kind;
  using Mode = reload::DockerReloader::Mode;
  switch (spec.kind) {
    case Kind::Command: return std::make_unique<reload::CommandReloader>(spec.argv, settings.reloadTimeout, stop.fd());
    case Kind::Signal: return std::make_unique<reload::SignalReloader>(processes, spec.target, spec.signal);
    case Kind::DockerRestart:
    case Kind::DockerService: {
      docker = std::make_unique<net::DockerSocket>(settings.dockerSocket.string(), stop.fd());
      char host[256] = {0};
      ::gethostname(host, sizeof host - 1);  // Docker sets it to the container's ID
      return std::make_unique<reload::DockerReloader>(
          *docker, spec.kind == Kind::DockerRestart ? Mode::RestartContainer : Mode::UpdateService, spec.target, host);
    }
    case Kind::None: break;
  }
  return std::make_unique<reload::NoReload>();
}

Status Runtime::bindResponder() {
  if (acme.empty() || responder) return {};
  auto r = http01::Responder::bind(settings.http01Host, settings.http01Port, tokens);
  if (!r) return std::unexpected(r.error());
  responder = std::move(*r);
  return {};
}

Status Runtime::dropPrivileges() {
  Needs needs;
  needs.chownToGroup = !settings.fileGroup.empty();
  needs.signalOthers = settings.reload.kind == ReloadSpec::Kind::Signal;
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
  if (acme.empty() || responderStarted) return {};
  if (auto bound = bindResponder(); !bound) return bound;
  responder->start();
  responderStarted = true;
  log::info("responder_listening", {{"address", describeListen(settings)}});
  return {};
}

Result<std::unique_ptr<Runtime>> buildRuntime(const Settings& settings) {
  auto gid = resolveGroup(settings.fileGroup);
  if (!gid) return std::unexpected(gid.error());
  auto stop = StopSignal::create();
  if (!stop) return std::unexpected(stop.error());
  auto transport =
      net::CurlTransport::create({settings.acmeCaBundle, std::string("sidecert/") + SIDECERT_VERSION, stop->fd()});
  if (!transport) return std::unexpected(transport.error());
  return std::make_unique<Runtime>(settings, *gid, std::move(*stop), std::move(*transport));
}

}  // namespace sc::app
