#include "app/wiring.h"

#include <grp.h>

#include <algorithm>

#include "reload/command_reloader.h"

namespace sc::app {

Policy policyFrom(const Settings& s) {
  Policy p;
  p.names = s.domains;
  if (!s.domainsFromHostname) p.requiredNames = s.domains;
  p.keyType = s.keyType;
  p.renewBefore = s.renewBefore;
  p.checkInterval = s.checkInterval;
  p.userGrace = s.userGrace;
  return p;
}

Result<std::optional<gid_t>> resolveGroup(const std::string& group) {
  if (group.empty()) return std::optional<gid_t>();
  if (std::all_of(group.begin(), group.end(), ::isdigit)) return std::optional<gid_t>(std::stoul(group));
  struct group* g = ::getgrnam(group.c_str());
  if (!g) return fail("SIDECERT_FILE_GROUP: no group named '" + group + "' on this system");
  return std::optional<gid_t>(g->gr_gid);
}

Runtime::Runtime(Settings s, std::optional<gid_t> keyGroup)
    : settings(std::move(s)),
      volume(fs, settings.volume, settings.name, keyGroup),
      state(fs, settings.volume, settings.name) {
  if (settings.reload.kind == ReloadSpec::Kind::Command)
    reloader = std::make_unique<reload::CommandReloader>(settings.reload.argv, settings.reloadTimeout);
  else
    reloader = std::make_unique<reload::NoReload>();
  lineage = std::make_unique<Lineage>(policyFrom(settings), volume, state,
                                      std::vector<sources::CertSource*>{&selfSigned}, *reloader);
}

Result<std::unique_ptr<Runtime>> buildRuntime(const Settings& settings) {
  auto gid = resolveGroup(settings.fileGroup);
  if (!gid) return std::unexpected(gid.error());
  return std::make_unique<Runtime>(settings, *gid);
}

}  // namespace sc::app
