#include "store/held_set.h"

namespace sc::store {

HeldSet::HeldSet(FileSystem& fs, VolumeLayout layout, Publishing publishing)
    : fs_(fs), layout_(std::move(layout)), publishing_(publishing) {}

Status HeldSet::hold(const CertFiles& files, Source source) {
  std::string meta = metaJson(source, TimePoint{});
  // The folder is replaced whole: a crash in between loses only the reserve.
  if (auto ok = fs_.removeTree(layout_.held()); !ok) return wrap("replace the set held for " + layout_.name, ok.error());
  if (auto ok = writeSetFolder(fs_, publishing_, layout_.held(), files, 0700, &meta, false); !ok)
    return wrap("hold a set for " + layout_.name, ok.error());
  return {};
}

Result<std::optional<std::pair<Source, CertFiles>>> HeldSet::held() {
  const Path dir = layout_.held();
  auto kind = fs_.kind(dir / "meta.json");
  if (!kind) return std::unexpected(kind.error());
  if (*kind == EntryKind::Missing) return std::nullopt;
  auto meta = fs_.readFile(dir / "meta.json");
  if (!meta) return wrap("read the set held for " + layout_.name, meta.error());
  auto source = parseMeta(*meta).source;
  if (!source) return fail("the set held for " + layout_.name + " has no source in its meta.json");
  auto files = readSetFolder(fs_, dir);
  if (!files) return wrap("read the set held for " + layout_.name, files.error());
  return std::pair{*source, *files};
}

Status HeldSet::release() { return fs_.removeTree(layout_.held()); }

}  // namespace sc::store
