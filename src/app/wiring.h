#pragma once
// The composition root: the only place that turns Settings into objects.
#include <memory>

#include "app/lineage.h"
#include "config/settings.h"
#include "reload/reloader.h"
#include "sources/self_signed_source.h"
#include "store/posix_fs.h"
#include "store/state.h"
#include "store/volume.h"

namespace sc::app {

struct Runtime {
  explicit Runtime(Settings s, std::optional<gid_t> keyGroup);
  Settings settings;
  store::PosixFileSystem fs;
  store::Volume volume;
  store::StateStore state;
  sources::SelfSignedSource selfSigned;
  std::unique_ptr<reload::Reloader> reloader;
  std::unique_ptr<Lineage> lineage;
};

Result<std::unique_ptr<Runtime>> buildRuntime(const Settings& settings);
Policy policyFrom(const Settings& settings);
Result<std::optional<gid_t>> resolveGroup(const std::string& group);

}  // namespace sc::app
