#include "store/volume.h"

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <regex>
#include <set>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "core/time_format.h"
#include "log/log.h"
#include "store/migrate.h"
#include "store/move.h"

namespace sc::store {
namespace {

// Set ids are "set-" and 6 to 9 digits, as nextId makes them (a billion sets is
// never reached); a name outside that, whoever made it, is never read as a number.
const std::regex kSetId("set-[0-9]{6,9}");
constexpr long kLastSetNumber = 999'999'999;

// A published file's bytes: one of the four, or the combined file made of them.
std::string bytesOf(const CertFiles& files, const std::string& file) {
  return file == kCombinedFile ? combinedOf(files) : fileOf(files, file);
}

std::string metaJson(Source source, TimePoint now) {
  Poco::JSON::Object meta(Poco::JSON_PRESERVE_KEY_ORDER);
  meta.set("source", std::string(sourceName(source)));
  meta.set("published", formatTime(now));
  std::ostringstream out;
  meta.stringify(out);
  return out.str();
}

struct Meta {
  std::optional<Source> source;
  std::optional<TimePoint> published;
};

Meta parseMeta(const std::string& json) {
  try {
    auto obj = Poco::JSON::Parser().parse(json).extract<Poco::JSON::Object::Ptr>();
    return {parseSource(obj->optValue<std::string>("source", "")), parseTime(obj->optValue<std::string>("published", ""))};
  } catch (const Poco::Exception&) {
    return {};
  }
}

std::optional<Source> sourceFromMeta(const std::string& json) { return parseMeta(json).source; }

}  // namespace

mode_t Publishing::modeOf(const std::string& file) const {
  if (holdsKey(file)) return keyMode.value_or(keyGroup ? 0640 : 0600);
  return certMode;
}

Volume::Volume(FileSystem& fs, Path root, Path stateDir, std::string name, Publishing publishing)
    : fs_(fs), root_(std::move(root)), stateDir_(std::move(stateDir)), name_(std::move(name)),
      publishing_(publishing) {}

FileOwner Volume::ownerOf(const std::string& file, bool inVolume) const {
  return {inVolume ? publishing_.owner : std::nullopt, holdsKey(file) ? publishing_.keyGroup : std::nullopt};
}

Status Volume::prepare() {
  for (const Path& top : {root_, stateDir_}) {
    Path ancestor;
    for (const auto& part : top.parent_path()) {  // a folder may be new, parents and all
      ancestor /= part;
      if (fs_.kind(ancestor).value_or(EntryKind::Missing) == EntryKind::Missing)
        if (auto ok = fs_.makeDir(ancestor, 0755); !ok) return wrap("prepare the volume", ok.error());
    }
  }
  for (const auto& [dir, mode] : {std::pair<Path, mode_t>{root_, 0755}, {stateDir_, 0700}})
    if (auto ok = fs_.makeDir(dir, mode); !ok) return wrap("prepare the volume", ok.error());
  auto moved = moveStateOutOfVolume(fs_, root_, stateDir_);
  if (!moved) return wrap("move the state out of the volume", moved.error());
  if (!moved->empty())
    log::info("state_moved", {{"from", (root_ / "sidecert").string()}, {"to", stateDir_.string()}, {"what", *moved}});
  const std::pair<Path, mode_t> dirs[] = {
      {root_ / "live", 0755},       {root_ / "archive", 0755}, {archive(), 0755},  {asideDir(), 0700},
      {stateDir_ / "sets", 0700}, {canonical(), 0700},       {stateDir_ / "pending", 0700},
      {stateDir_ / "held", 0700}};
  for (const auto& [dir, mode] : dirs)
    if (auto ok = fs_.makeDir(dir, mode); !ok) return wrap("prepare the volume", ok.error());
  return {};
}

Result<std::vector<std::string>> Volume::setIds(const Path& dir) {
  auto names = fs_.list(dir);
  if (!names) return std::unexpected(names.error());
  std::vector<std::string> ids;
  for (const auto& n : *names)
    if (std::regex_match(n, kSetId)) ids.push_back(n);
  // Shorter is smaller; of equal length, text order is number order.
  std::sort(ids.begin(), ids.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() < b.size() : a < b;
  });
  return ids;
}

Result<std::optional<SetRecord>> Volume::latestSet() {
  auto ids = setIds(canonical());
  if (!ids) return std::unexpected(ids.error());
  for (auto it = ids->rbegin(); it != ids->rend(); ++it) {
    auto meta = fs_.readFile(canonical() / *it / "meta.json");
    if (!meta) continue;  // a set we did not finish writing
    if (auto source = sourceFromMeta(*meta)) return std::optional<SetRecord>(SetRecord{*it, *source});
  }
  return std::optional<SetRecord>();
}

// Where a file seen in live/<name>/ really is: through our link, in the set folder
// it names (the file system never writes through a link); in a folder a user put
// there, in it.
Path Volume::liveEntry(const std::string& file) {
  if (fs_.kind(live()).value_or(EntryKind::Missing) == EntryKind::Symlink)
    if (auto target = fs_.readLink(live()); target && !setIdOfLink(*target).empty())
      return archive() / setIdOfLink(*target) / file;
  return live() / file;
}

std::string Volume::linkTo(const std::string& id) const { return "../archive/" + name_ + "/" + id; }

// The set id a live/<name> link target names, if it has the shape of ours; "".
std::string Volume::setIdOfLink(const std::string& target) const {
  const std::string prefix = linkTo("");
  std::string id = target.rfind(prefix, 0) == 0 ? target.substr(prefix.size()) : "";
  return std::regex_match(id, kSetId) ? id : "";
}

Result<LiveView> Volume::inspect() {
  LiveView view;
  auto kind = fs_.kind(live());
  if (!kind) return std::unexpected(kind.error());
  if (*kind == EntryKind::Missing) return view;

  if (*kind == EntryKind::Symlink) {
    auto target = fs_.readLink(live());
    if (!target) return std::unexpected(target.error());
    std::string id = setIdOfLink(*target);
    auto meta = !id.empty() ? fs_.readFile(canonical() / id / "meta.json") : Result<std::string>(fail("not ours"));
    std::optional<Source> source = meta ? sourceFromMeta(*meta) : std::nullopt;
    if (source) {
      view.link = LiveView::Link::Ours;
      view.set = SetRecord{id, *source};
      for (const char* file : kPublishedFiles) {
        auto k = fs_.kind(archive() / id / file);
        if (!k) return std::unexpected(k.error());
        if (*k == EntryKind::Missing) {
          view.missing.push_back(file);
          continue;
        }
        auto ours = fs_.readFile(canonical() / id / file);
        auto now = *k == EntryKind::File ? fs_.readFile(archive() / id / file) : ours;
        if (*k != EntryKind::File || !ours || !now || *ours != *now) view.foreign.push_back(file);
      }
      return view;
    }
    view.linkIsSymlink = true;
  }
  view.link = LiveView::Link::Foreign;
  for (const char* file : kSetFiles) {
    auto k = fs_.kind(live() / file);
    if (k && *k != EntryKind::Missing) view.foreign.push_back(file);
  }
  return view;
}

Result<CertFiles> Volume::readSetFolder(const Path& dir) {
  CertFiles files;
  for (const char* file : kSetFiles) {
    auto bytes = fs_.readFile(dir / file);
    if (!bytes) return std::unexpected(bytes.error());
    fileOf(files, file) = *bytes;
  }
  return files;
}

Result<CertFiles> Volume::readSet(const std::string& id) {
  auto files = readSetFolder(canonical() / id);
  if (!files) return wrap("read our copy of " + id, files.error());
  return files;
}

Status Volume::markRevoked(const std::string& id, TimePoint now) {
  Path marker = canonical() / id / "revoked";
  if (auto ok = fs_.remove(marker); !ok) return ok;
  if (auto ok = fs_.writeNew(marker, formatTime(now) + "\n", 0600); !ok) return wrap("mark " + id + " revoked", ok.error());
  return fs_.syncDir(canonical() / id);
}

bool Volume::isRevoked(const std::string& id) {
  return fs_.kind(canonical() / id / "revoked").value_or(EntryKind::Missing) == EntryKind::File;
}

// The number after sidecert's own sets (its metadata folder); a name in archive/
// that someone else made is stepped over, never taken as the highest number.
Result<std::string> Volume::nextId() {
  auto ours = fs_.list(canonical());
  if (!ours) return std::unexpected(ours.error());
  auto archived = fs_.list(archive());
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

Status Volume::writeSetFolder(const Path& final, const CertFiles& files, mode_t dirMode, const std::string* meta,
                              bool inVolume) {
  Path tmp = final;
  tmp += ".tmp";
  if (auto ok = fs_.removeTree(tmp); !ok) return ok;  // left by a writer that was killed
  if (auto ok = fs_.makeDir(tmp, dirMode); !ok) return ok;
  std::vector<Path> written;
  for (const char* file : kPublishedFiles) {
    written.push_back(tmp / file);
    auto ok = fs_.writeNew(written.back(), bytesOf(files, file), publishing_.modeOf(file), ownerOf(file, inVolume),
                           Sync::Later);
    if (!ok) return ok;
  }
  if (meta) {
    written.push_back(tmp / "meta.json");
    if (auto ok = fs_.writeNew(written.back(), *meta, 0600, {}, Sync::Later); !ok) return ok;
  }
  if (auto ok = fs_.syncFiles(written); !ok) return ok;
  if (auto ok = fs_.syncDir(tmp); !ok) return ok;
  if (auto ok = fs_.rename(tmp, final); !ok) return ok;
  return fs_.syncDir(final.parent_path());
}

Status Volume::swapLink(const std::string& id, TimePoint now) {
  Path tmp = root_ / "live" / ("." + name_ + "." + id + ".tmp");
  if (auto ok = fs_.remove(tmp); !ok) return ok;
  if (auto ok = fs_.symlink(linkTo(id), tmp); !ok) return ok;
  auto kind = fs_.kind(live());
  if (!kind) return std::unexpected(kind.error());
  if (*kind == EntryKind::Directory) {
    // A folder someone made: swap it with our link in one step, then keep it aside.
    if (auto ok = fs_.exchange(tmp, live()); !ok) return ok;
    auto aside = newAsideFolder("replaced", now);
    if (!aside) return std::unexpected(aside.error());
    if (auto ok = fs_.rename(tmp, *aside / name_); !ok) return ok;
  } else if (auto ok = fs_.rename(tmp, live()); !ok) {
    return ok;
  }
  return fs_.syncDir(root_ / "live");
}

Result<SetRecord> Volume::publish(const CertFiles& files, Source source, TimePoint now) {
  auto id = nextId();
  if (!id) return wrap("publish a new set in " + liveRelative(), id.error());
  std::string meta = metaJson(source, now);
  // Our copy first: once the link points at a set, the copy that proves it is ours exists.
  if (auto ok = writeSetFolder(canonical() / *id, files, 0700, &meta, false); !ok)
    return wrap("publish " + *id + " for " + liveRelative(), ok.error());
  if (auto ok = writeSetFolder(archive() / *id, files, 0755, nullptr, true); !ok)
    return wrap("publish " + *id + " for " + liveRelative(), ok.error());
  if (auto ok = swapLink(*id, now); !ok) return wrap("switch " + liveRelative() + " to " + *id, ok.error());
  if (auto ok = collectGarbage(now); !ok) return wrap("tidy old sets of " + name_, ok.error());
  return SetRecord{*id, source};
}

Status Volume::replaceFile(const Path& dir, const std::string& file, const std::string& bytes, bool inVolume) {
  Path tmp = dir / ("." + file + ".tmp");
  if (auto ok = fs_.remove(tmp); !ok) return ok;
  if (auto ok = fs_.writeNew(tmp, bytes, publishing_.modeOf(file), ownerOf(file, inVolume)); !ok) return ok;
  if (auto ok = fs_.rename(tmp, dir / file); !ok) return ok;
  return fs_.syncDir(dir);
}

Status Volume::restoreFiles(const SetRecord& set, const std::vector<std::string>& files) {
  for (const auto& file : files) {
    auto bytes = fs_.readFile(canonical() / set.id / file);
    if (!bytes && file == kCombinedFile) {
      // A set published before sets had a combined file: made from its four, and
      // kept in our copy too, so that it is ours from now on.
      auto four = readSet(set.id);
      if (!four) return wrap("restore " + file, four.error());
      bytes = combinedOf(*four);
      if (auto ok = replaceFile(canonical() / set.id, file, *bytes, false); !ok) return wrap("restore " + file, ok.error());
    }
    if (!bytes) return wrap("restore " + file, bytes.error());
    if (auto ok = replaceFile(archive() / set.id, file, *bytes, true); !ok)
      return wrap("restore " + liveRelative() + "/" + file, ok.error());
  }
  return {};
}

Status Volume::retireArchiveFolder(const std::string& id, TimePoint now) {
  // A user may have dropped files into a set just before the link moved on:
  // whatever is not as we wrote it goes aside before the folder is removed.
  auto names = fs_.list(archive() / id);
  if (!names) return std::unexpected(names.error());
  std::optional<Path> aside;
  for (const auto& n : *names) {
    auto ours = fs_.readFile(canonical() / id / n);
    auto there = fs_.kind(archive() / id / n);
    bool same = false;
    if (ours && there && *there == EntryKind::File) {
      auto bytes = fs_.readFile(archive() / id / n);
      same = bytes && *bytes == *ours;
    }
    if (same || n.ends_with(".tmp")) continue;
    if (!aside) {
      auto made = newAsideFolder("left-in-old-set", now);
      if (!made) return std::unexpected(made.error());
      aside = *made;
    }
    if (auto ok = fs_.rename(archive() / id / n, *aside / n); !ok) return ok;
  }
  return fs_.removeTree(archive() / id);
}

Status Volume::removeLeftovers() {
  // Half-written folders and links of a writer that was killed; we hold the lock,
  // so none of them is in flight.
  static const std::regex unfinishedSet("set-[0-9]{6,}\\.tmp");
  for (const Path& dir : {canonical(), archive()}) {
    auto names = fs_.list(dir);
    if (!names) return std::unexpected(names.error());
    for (const auto& n : *names)
      if (std::regex_match(n, unfinishedSet))
        if (auto ok = fs_.removeTree(dir / n); !ok) return ok;
  }
  auto links = fs_.list(root_ / "live");
  if (!links) return std::unexpected(links.error());
  for (const auto& n : *links)
    if (n.starts_with("." + name_ + ".set-") && n.ends_with(".tmp"))
      if (auto ok = fs_.remove(root_ / "live" / n); !ok) return ok;
  return {};
}

Status Volume::collectGarbage(TimePoint now) {
  if (auto ok = removeLeftovers(); !ok) return ok;
  auto ids = setIds(canonical());
  if (!ids) return std::unexpected(ids.error());
  std::size_t excess = ids->size() > kKeptSets ? ids->size() - kKeptSets : 0;
  for (std::size_t i = 0; i < excess; ++i) {
    // A reader that resolved the link just before it moved may still be reading.
    auto successor = fs_.readFile(canonical() / (*ids)[i + 1] / "meta.json");
    auto replacedAt = successor ? parseMeta(*successor).published : std::nullopt;
    if (replacedAt && now - *replacedAt < kRetireAfter) break;
    if (fs_.kind(archive() / (*ids)[i]).value_or(EntryKind::Missing) == EntryKind::Directory)
      if (auto ok = retireArchiveFolder((*ids)[i], now); !ok) return ok;
    if (auto ok = fs_.removeTree(canonical() / (*ids)[i]); !ok) return ok;
  }
  return {};
}

Result<std::string> Volume::readLiveFile(const std::string& file) {
  return fs_.readBeneath(root_, Path("live") / name_ / file);
}

Status Volume::takeIntoPending(const std::string& file, const std::string& bytes, TimePoint now,
                               bool removeOriginal) {
  if (fs_.kind(pendingDir() / file).value_or(EntryKind::Missing) != EntryKind::Missing) {
    // An older drop of the same file is superseded: kept, not overwritten.
    auto aside = newAsideFolder("superseded", now);
    if (!aside) return std::unexpected(aside.error());
    if (auto ok = moveEntry(fs_, pendingDir() / file, *aside / file); !ok) return ok;
  }
  if (auto ok = fs_.makeDir(pendingDir(), 0700); !ok) return ok;
  if (auto ok = fs_.writeNew(pendingDir() / file, bytes, 0600); !ok) return ok;
  if (auto ok = fs_.syncDir(pendingDir()); !ok) return ok;
  return removeOriginal ? fs_.remove(liveEntry(file)) : Status{};
}

Result<std::map<std::string, std::string>> Volume::pending() {
  std::map<std::string, std::string> files;
  for (const char* file : kSetFiles) {
    if (fs_.kind(pendingDir() / file).value_or(EntryKind::Missing) != EntryKind::File) continue;
    auto bytes = fs_.readFile(pendingDir() / file);
    if (!bytes) return std::unexpected(bytes.error());
    files[file] = *bytes;
  }
  return files;
}

Result<Path> Volume::newAsideFolder(const std::string& why, TimePoint now) {
  Path base = asideDir();
  if (auto ok = fs_.makeDir(base, 0700); !ok) return std::unexpected(ok.error());
  std::string stem = formatTimeCompact(now) + "-" + why + "-" + name_;
  for (int n = 1; n < 1000; ++n) {
    Path candidate = base / (n == 1 ? stem : stem + "-" + std::to_string(n));
    if (fs_.kind(candidate).value_or(EntryKind::Other) != EntryKind::Missing) continue;
    if (auto ok = fs_.makeDir(candidate, 0700); !ok) return std::unexpected(ok.error());
    return candidate;
  }
  return fail("no free folder name under " + base.string() + " for " + stem);
}

Result<std::string> Volume::moveLiveAside(const LiveView& view, const std::vector<std::string>& files,
                                          const std::string& why, TimePoint now) {
  auto aside = newAsideFolder(why, now);
  if (!aside) return std::unexpected(aside.error());
  if (view.link == LiveView::Link::Foreign && view.linkIsSymlink) {
    if (auto ok = fs_.rename(live(), *aside / name_); !ok) return std::unexpected(ok.error());
  } else {
    for (const auto& f : files)
      if (auto ok = fs_.rename(liveEntry(f), *aside / f); !ok) return std::unexpected(ok.error());
  }
  return aside->lexically_relative(root_).string();
}

Result<std::string> Volume::movePendingAside(const std::string& why, TimePoint now) {
  auto files = pending();
  if (!files) return std::unexpected(files.error());
  if (files->empty()) return std::string();
  auto aside = newAsideFolder(why, now);
  if (!aside) return std::unexpected(aside.error());
  for (const auto& [file, _] : *files)
    if (auto ok = moveEntry(fs_, pendingDir() / file, *aside / file); !ok) return std::unexpected(ok.error());
  return aside->lexically_relative(root_).string();
}

Status Volume::hold(const CertFiles& files, Source source) {
  std::string meta = metaJson(source, TimePoint{});
  // The folder is replaced whole: a crash in between loses only the reserve.
  if (auto ok = fs_.removeTree(heldDir()); !ok) return wrap("replace the set held for " + name_, ok.error());
  if (auto ok = writeSetFolder(heldDir(), files, 0700, &meta, false); !ok)
    return wrap("hold a set for " + name_, ok.error());
  return {};
}

Result<std::optional<std::pair<Source, CertFiles>>> Volume::held() {
  auto kind = fs_.kind(heldDir() / "meta.json");
  if (!kind) return std::unexpected(kind.error());
  if (*kind == EntryKind::Missing) return std::nullopt;
  auto meta = fs_.readFile(heldDir() / "meta.json");
  if (!meta) return wrap("read the set held for " + name_, meta.error());
  auto source = sourceFromMeta(*meta);
  if (!source) return fail("the set held for " + name_ + " has no source in its meta.json");
  auto files = readSetFolder(heldDir());
  if (!files) return wrap("read the set held for " + name_, files.error());
  return std::pair{*source, *files};
}

Status Volume::releaseHeld() { return fs_.removeTree(heldDir()); }

Result<std::string> Volume::keepAside(const CertFiles& files, const std::string& why, TimePoint now) {
  auto aside = newAsideFolder(why, now);
  if (!aside) return std::unexpected(aside.error());
  for (const char* file : kSetFiles)
    if (auto ok = fs_.writeNew(*aside / file, fileOf(files, file), 0600); !ok)
      return std::unexpected(ok.error());
  return aside->lexically_relative(root_).string();
}

}  // namespace sc::store
