#include "store/volume_layout.h"

#include <regex>

#include "core/time_format.h"

namespace sc::store {

std::vector<std::pair<Path, mode_t>> VolumeLayout::folders() const {
  return {{root / "live", 0755},      {root / "archive", 0755},      {archive(), 0755}, {asideDir(), 0700},
          {stateDir / "sets", 0700}, {sets(), 0700},                {stateDir / "pending", 0700},
          {stateDir / "held", 0700}};
}

bool isSetId(const std::string& name) {
  static const std::regex kSetId("set-[0-9]{6,9}");
  return std::regex_match(name, kSetId);
}

std::string VolumeLayout::setIdOfLink(const std::string& target) const {
  const std::string prefix = linkTo("");
  std::string id = target.rfind(prefix, 0) == 0 ? target.substr(prefix.size()) : "";
  return isSetId(id) ? id : "";
}

Result<Path> newAsideFolder(FileSystem& fs, const VolumeLayout& layout, const std::string& why, TimePoint now) {
  Path base = layout.asideDir();
  if (auto ok = fs.makeDir(base, 0700); !ok) return std::unexpected(ok.error());
  std::string stem = formatTimeCompact(now) + "-" + why + "-" + layout.name;
  for (int n = 1; n < 1000; ++n) {
    Path candidate = base / (n == 1 ? stem : stem + "-" + std::to_string(n));
    if (fs.kind(candidate).value_or(EntryKind::Other) != EntryKind::Missing) continue;
    if (auto ok = fs.makeDir(candidate, 0700); !ok) return std::unexpected(ok.error());
    return candidate;
  }
  return fail("no free folder name under " + base.string() + " for " + stem);
}

}  // namespace sc::store
