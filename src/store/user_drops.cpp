#include "store/user_drops.h"

#include "store/move.h"

namespace sc::store {

UserDrops::UserDrops(FileSystem& fs, VolumeLayout layout) : fs_(fs), layout_(std::move(layout)) {}

// Where a file seen in live/<name>/ really is: through our link, in the set folder
// it names (the file system never writes through a link); in a folder a user put
// there, in it.
Path UserDrops::liveEntry(const std::string& file) {
  if (fs_.kind(layout_.live()).value_or(EntryKind::Missing) == EntryKind::Symlink)
    if (auto target = fs_.readLink(layout_.live()); target && !layout_.setIdOfLink(*target).empty())
      return layout_.archive() / layout_.setIdOfLink(*target) / file;
  return layout_.live() / file;
}

Status UserDrops::takeIntoPending(const std::string& file, const std::string& bytes, TimePoint now,
                                  bool removeOriginal) {
  const Path dir = layout_.pending();
  if (fs_.kind(dir / file).value_or(EntryKind::Missing) != EntryKind::Missing) {
    // An older drop of the same file is superseded: kept, not overwritten.
    auto aside = newAsideFolder(fs_, layout_, "superseded", now);
    if (!aside) return std::unexpected(aside.error());
    if (auto ok = moveEntry(fs_, dir / file, *aside / file); !ok) return ok;
  }
  if (auto ok = fs_.makeDir(dir, 0700); !ok) return ok;
  if (auto ok = fs_.writeNew(dir / file, bytes, 0600); !ok) return ok;
  if (auto ok = fs_.syncDir(dir); !ok) return ok;
  return removeOriginal ? fs_.remove(liveEntry(file)) : Status{};
}

Result<std::map<std::string, std::string>> UserDrops::pending() {
  std::map<std::string, std::string> files;
  for (const char* file : kSetFiles) {
    if (fs_.kind(layout_.pending() / file).value_or(EntryKind::Missing) != EntryKind::File) continue;
    auto bytes = fs_.readFile(layout_.pending() / file);
    if (!bytes) return std::unexpected(bytes.error());
    files[file] = *bytes;
  }
  return files;
}

Result<std::string> UserDrops::moveLiveAside(const LiveView& view, const std::vector<std::string>& files,
                                             const std::string& why, TimePoint now) {
  auto aside = newAsideFolder(fs_, layout_, why, now);
  if (!aside) return std::unexpected(aside.error());
  if (view.link == LiveView::Link::Foreign && view.linkIsSymlink) {
    if (auto ok = fs_.rename(layout_.live(), *aside / layout_.name); !ok) return std::unexpected(ok.error());
  } else {
    for (const auto& f : files)
      if (auto ok = fs_.rename(liveEntry(f), *aside / f); !ok) return std::unexpected(ok.error());
  }
  return aside->lexically_relative(layout_.root).string();
}

Result<std::string> UserDrops::movePendingAside(const std::string& why, TimePoint now) {
  auto files = pending();
  if (!files) return std::unexpected(files.error());
  if (files->empty()) return std::string();
  auto aside = newAsideFolder(fs_, layout_, why, now);
  if (!aside) return std::unexpected(aside.error());
  for (const auto& [file, _] : *files)
    if (auto ok = moveEntry(fs_, layout_.pending() / file, *aside / file); !ok) return std::unexpected(ok.error());
  return aside->lexically_relative(layout_.root).string();
}

}  // namespace sc::store
