#include "store/migrate.h"

#include <utility>
#include <vector>

#include "store/move.h"

namespace sc::store {

Result<std::string> moveStateOutOfVolume(FileSystem& fs, const Path& volume, const Path& stateDir) {
  const Path old = volume / "sidecert";
  if (fs.kind(old).value_or(EntryKind::Missing) != EntryKind::Directory) return std::string();
  auto names = fs.list(old);
  if (!names) return std::unexpected(names.error());
  std::vector<std::pair<Path, Path>> moves;
  for (const auto& n : *names) {
    if (n == "lock") continue;
    Path to = n == "aside" ? volume / "aside" : stateDir / n;
    if (n == "aside" && fs.kind(to).value_or(EntryKind::Missing) == EntryKind::Directory) {
      auto kept = fs.list(old / n);  // both: each folder put aside joins the others
      if (!kept) return std::unexpected(kept.error());
      for (const auto& k : *kept) moves.emplace_back(old / n / k, to / k);
      moves.emplace_back(old / n, Path());  // then the emptied folder goes
    } else {
      moves.emplace_back(old / n, to);
    }
  }
  std::string moved;
  for (const auto& [from, to] : moves) {
    if (to.empty()) {
      (void)fs.remove(from);
      continue;
    }
    if (fs.kind(to).value_or(EntryKind::Other) != EntryKind::Missing) continue;  // the new place wins
    if (auto ok = moveEntry(fs, from, to); !ok) return wrap("move " + from.string() + " to " + to.string(), ok.error());
    moved += (moved.empty() ? "" : ",") + from.lexically_relative(old).string();
  }
  (void)fs.remove(old / "lock");
  (void)fs.remove(old);  // only if nothing is left in it
  return moved;
}

}  // namespace sc::store
