#include "store/volume.h"

#include <algorithm>
#include <cstdio>
#include <regex>
#include <set>

#include "log/log.h"
#include "store/migrate.h"

namespace sc::store {
namespace {

constexpr long kLastSetNumber = 999'999'999;  // set ids have at most 9 digits (store/volume_layout.h)

std::optional<Source> sourceFromMeta(const std::string& json) { return parseMeta(json).source; }

}  // namespace

Volume::Volume(FileSystem& fs, Path root, Path stateDir, std::string name, Publishing publishing)
    : fs_(fs), layout_{std::move(root), std::move(stateDir), std::move(name)}, publishing_(publishing) {}

Status Volume::prepare() {
  const Path& root = layout_.root;
  const Path& stateDir = layout_.stateDir;
  for (const Path& top : {root, stateDir}) {
    Path ancestor;
    for (const auto& part : top.parent_path()) {  // a folder may be new, parents and all
      ancestor /= part;
      if (fs_.kind(ancestor).value_or(EntryKind::Missing) == EntryKind::Missing)
        if (auto ok = fs_.makeDir(ancestor, 0755); !ok) return wrap("prepare the volume", ok.error());
    }
  }
  for (const auto& [dir, mode] : {std::pair<Path, mode_t>{root, 0755}, {stateDir, 0700}})
    if (auto ok = fs_.makeDir(dir, mode); !ok) return wrap("prepare the volume", ok.error());
  auto moved = moveStateOutOfVolume(fs_, root, stateDir);
  if (!moved) return wrap("move the state out of the volume", moved.error());
  if (!moved->empty())
    log::info("state_moved", {{"from", (root / "sidecert").string()}, {"to", stateDir.string()}, {"what", *moved}});
  for (const auto& [dir, mode] : layout_.folders())
    if (auto ok = fs_.makeDir(dir, mode); !ok) return wrap("prepare the volume", ok.error());
  return {};
}

Result<std::vector<std::string>> Volume::setIds(const Path& dir) {
  auto names = fs_.list(dir);
  if (!names) return std::unexpected(names.error());
  std::vector<std::string> ids;
  for (const auto& n : *names)
    if (isSetId(n)) ids.push_back(n);
  // Shorter is smaller; of equal length, text order is number order.
  std::sort(ids.begin(), ids.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() < b.size() : a < b;
  });
  return ids;
}

Result<std::optional<SetRecord>> Volume::latestSet() {
  auto ids = setIds(layout_.sets());
  if (!ids) return std::unexpected(ids.error());
  for (auto it = ids->rbegin(); it != ids->rend(); ++it) {
    auto meta = fs_.readFile(layout_.sets() / *it / "meta.json");
    if (!meta) continue;  // a set we did not finish writing
    if (auto source = sourceFromMeta(*meta)) return std::optional<SetRecord>(SetRecord{*it, *source});
  }
  return std::optional<SetRecord>();
}

Result<LiveView> Volume::inspect() {
  LiveView view;
  const Path live = layout_.live();
  auto kind = fs_.kind(live);
  if (!kind) return std::unexpected(kind.error());
  noteLive(*kind);
  if (*kind == EntryKind::Missing) return view;

  if (*kind == EntryKind::Symlink) {
    auto target = fs_.readLink(live);
    if (!target) return std::unexpected(target.error());
    std::string id = layout_.setIdOfLink(*target);
    auto meta =
        !id.empty() ? fs_.readFile(layout_.sets() / id / "meta.json") : Result<std::string>(fail("not ours"));
    std::optional<Source> source = meta ? sourceFromMeta(*meta) : std::nullopt;
    if (source) {
      view.link = LiveView::Link::Ours;
      view.set = SetRecord{id, *source};
      for (const char* file : kPublishedFiles) {
        auto k = fs_.kind(layout_.archive() / id / file);
        if (!k) return std::unexpected(k.error());
        if (*k == EntryKind::Missing) {
          view.missing.push_back(file);
          continue;
        }
        auto ours = fs_.readFile(layout_.sets() / id / file);
        auto now = *k == EntryKind::File ? fs_.readFile(layout_.archive() / id / file) : ours;
        if (*k != EntryKind::File || !ours || !now || *ours != *now) view.foreign.push_back(file);
      }
      return view;
    }
    view.linkIsSymlink = true;
  }
  view.link = LiveView::Link::Foreign;
  for (const char* file : kSetFiles) {
    auto k = fs_.kind(live / file);
    if (k && *k != EntryKind::Missing) view.foreign.push_back(file);
  }
  return view;
}

Result<bool> Volume::withdrawLive() {
  auto view = inspect();
  if (!view) return std::unexpected(view.error());
  if (view->link != LiveView::Link::Ours) return false;
  if (auto ok = fs_.remove(layout_.live()); !ok) return std::unexpected(ok.error());
  liveSeen_ = kHoldsNone;
  if (auto ok = fs_.syncDir(layout_.root / "live"); !ok) return std::unexpected(ok.error());
  return true;
}

Result<bool> Volume::holdsSet() {
  if (int seen = liveSeen_; seen != kNotLooked) return seen == kHoldsSet;
  auto kind = fs_.kind(layout_.live());
  if (!kind) return std::unexpected(kind.error());
  noteLive(*kind);
  return liveSeen_ == kHoldsSet;
}

void Volume::noteLive(EntryKind kind) {
  liveSeen_ = kind == EntryKind::Symlink || kind == EntryKind::Directory ? kHoldsSet : kHoldsNone;
}

Result<CertFiles> Volume::readSet(const std::string& id) {
  auto files = readSetFolder(fs_, layout_.sets() / id);
  if (!files) return wrap("read our copy of " + id, files.error());
  return files;
}

// The number after sidecert's own sets (its metadata folder); a name in archive/
// that someone else made is stepped over, never taken as the highest number.
Result<std::string> Volume::nextId() {
  auto ours = fs_.list(layout_.sets());
  if (!ours) return std::unexpected(ours.error());
  auto archived = fs_.list(layout_.archive());
  if (!archived) return std::unexpected(archived.error());
  static const std::regex numbered("set-([0-9]{6,9})(\\.tmp)?");
  long highest = 0;
  for (const auto& n : *ours) {
    std::smatch m;
    if (std::regex_match(n, m, numbered)) highest = std::max(highest, std::stol(m[1]));  // 9 digits fit
  }
  std::set<std::string> taken(archived->begin(), archived->end());
  for (long n = highest + 1; n <= kLastSetNumber; ++n) {
    char id[32];
    std::snprintf(id, sizeof id, "set-%06ld", n);
    if (!taken.count(id) && !taken.count(std::string(id) + ".tmp")) return std::string(id);
  }
  return fail("no set id is left after set-" + std::to_string(highest));
}

Status Volume::swapLink(const std::string& id, TimePoint now) {
  const Path liveDir = layout_.root / "live";
  Path tmp = liveDir / ("." + layout_.name + "." + id + ".tmp");
  if (auto ok = fs_.remove(tmp); !ok) return ok;
  if (auto ok = fs_.symlink(layout_.linkTo(id), tmp); !ok) return ok;
  auto kind = fs_.kind(layout_.live());
  if (!kind) return std::unexpected(kind.error());
  if (*kind == EntryKind::Directory) {
    // A folder someone made: swap it with our link in one step, then keep it aside.
    if (auto ok = fs_.exchange(tmp, layout_.live()); !ok) return ok;
    auto aside = newAsideFolder(fs_, layout_, "replaced", now);
    if (!aside) return std::unexpected(aside.error());
    if (auto ok = fs_.rename(tmp, *aside / layout_.name); !ok) return ok;
  } else if (auto ok = fs_.rename(tmp, layout_.live()); !ok) {
    return ok;
  }
  liveSeen_ = kHoldsSet;
  return fs_.syncDir(liveDir);
}

Result<SetRecord> Volume::publish(const CertFiles& files, Source source, TimePoint now) {
  const std::string where = liveRelative();
  auto id = nextId();
  if (!id) return wrap("publish a new set in " + where, id.error());
  std::string meta = metaJson(source, now);
  // Our copy first: once the link points at a set, the copy that proves it is ours exists.
  if (auto ok = writeSetFolder(fs_, publishing_, layout_.sets() / *id, files, 0700, &meta, false); !ok)
    return wrap("publish " + *id + " for " + where, ok.error());
  if (auto ok = writeSetFolder(fs_, publishing_, layout_.archive() / *id, files, 0755, nullptr, true); !ok)
    return wrap("publish " + *id + " for " + where, ok.error());
  if (auto ok = swapLink(*id, now); !ok) return wrap("switch " + where + " to " + *id, ok.error());
  if (auto ok = collectGarbage(now); !ok) return wrap("tidy old sets of " + layout_.name, ok.error());
  return SetRecord{*id, source};
}

Status Volume::replaceFile(const Path& dir, const std::string& file, const std::string& bytes, bool inVolume) {
  Path tmp = dir / ("." + file + ".tmp");
  if (auto ok = fs_.remove(tmp); !ok) return ok;
  if (auto ok = fs_.writeNew(tmp, bytes, publishing_.modeOf(file), publishing_.ownerOf(file, inVolume)); !ok)
    return ok;
  if (auto ok = fs_.rename(tmp, dir / file); !ok) return ok;
  return fs_.syncDir(dir);
}

Status Volume::restoreFiles(const SetRecord& set, const std::vector<std::string>& files) {
  const Path ours = layout_.sets() / set.id;
  for (const auto& file : files) {
    auto bytes = fs_.readFile(ours / file);
    if (!bytes && file == kCombinedFile) {
      // A set published before sets had a combined file: made from its four, and
      // kept in our copy too, so that it is ours from now on.
      auto four = readSet(set.id);
      if (!four) return wrap("restore " + file, four.error());
      bytes = combinedOf(*four);
      if (auto ok = replaceFile(ours, file, *bytes, false); !ok) return wrap("restore " + file, ok.error());
    }
    if (!bytes) return wrap("restore " + file, bytes.error());
    if (auto ok = replaceFile(layout_.archive() / set.id, file, *bytes, true); !ok)
      return wrap("restore " + liveRelative() + "/" + file, ok.error());
  }
  return {};
}

Status Volume::retireArchiveFolder(const std::string& id, TimePoint now) {
  // A user may have dropped files into a set just before the link moved on:
  // whatever is not as we wrote it goes aside before the folder is removed.
  const Path there = layout_.archive() / id;
  auto names = fs_.list(there);
  if (!names) return std::unexpected(names.error());
  std::optional<Path> aside;
  for (const auto& n : *names) {
    auto ours = fs_.readFile(layout_.sets() / id / n);
    auto kind = fs_.kind(there / n);
    bool same = false;
    if (ours && kind && *kind == EntryKind::File) {
      auto bytes = fs_.readFile(there / n);
      same = bytes && *bytes == *ours;
    }
    if (same || n.ends_with(".tmp")) continue;
    if (!aside) {
      auto made = newAsideFolder(fs_, layout_, "left-in-old-set", now);
      if (!made) return std::unexpected(made.error());
      aside = *made;
    }
    if (auto ok = fs_.rename(there / n, *aside / n); !ok) return ok;
  }
  return fs_.removeTree(there);
}

Status Volume::removeLeftovers() {
  // Half-written folders and links of a writer that was killed; we hold the lock,
  // so none of them is in flight.
  static const std::regex unfinishedSet("set-[0-9]{6,}\\.tmp");
  for (const Path& dir : {layout_.sets(), layout_.archive()}) {
    auto names = fs_.list(dir);
    if (!names) return std::unexpected(names.error());
    for (const auto& n : *names)
      if (std::regex_match(n, unfinishedSet))
        if (auto ok = fs_.removeTree(dir / n); !ok) return ok;
  }
  const Path liveDir = layout_.root / "live";
  auto links = fs_.list(liveDir);
  if (!links) return std::unexpected(links.error());
  for (const auto& n : *links)
    if (n.starts_with("." + layout_.name + ".set-") && n.ends_with(".tmp"))
      if (auto ok = fs_.remove(liveDir / n); !ok) return ok;
  return {};
}

Status Volume::collectGarbage(TimePoint now) {
  if (auto ok = removeLeftovers(); !ok) return ok;
  auto ids = setIds(layout_.sets());
  if (!ids) return std::unexpected(ids.error());
  std::size_t excess = ids->size() > kKeptSets ? ids->size() - kKeptSets : 0;
  for (std::size_t i = 0; i < excess; ++i) {
    // A reader that resolved the link just before it moved may still be reading.
    auto successor = fs_.readFile(layout_.sets() / (*ids)[i + 1] / "meta.json");
    auto replacedAt = successor ? parseMeta(*successor).published : std::nullopt;
    if (replacedAt && now - *replacedAt < kRetireAfter) break;
    if (fs_.kind(layout_.archive() / (*ids)[i]).value_or(EntryKind::Missing) == EntryKind::Directory)
      if (auto ok = retireArchiveFolder((*ids)[i], now); !ok) return ok;
    if (auto ok = fs_.removeTree(layout_.sets() / (*ids)[i]); !ok) return ok;
  }
  return {};
}

Result<std::string> Volume::readLiveFile(const std::string& file) {
  return fs_.readBeneath(layout_.root, Path("live") / layout_.name / file);
}

Result<std::string> Volume::keepAside(const CertFiles& files, const std::string& why, TimePoint now) {
  auto aside = newAsideFolder(fs_, layout_, why, now);
  if (!aside) return std::unexpected(aside.error());
  for (const char* file : kSetFiles)
    if (auto ok = fs_.writeNew(*aside / file, fileOf(files, file), 0600); !ok)
      return std::unexpected(ok.error());
  return aside->lexically_relative(layout_.root).string();
}

}  // namespace sc::store
