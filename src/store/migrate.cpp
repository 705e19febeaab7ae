#include "store/migrate.h"

#include <cerrno>
#include <utility>
#include <vector>

namespace sc::store {
namespace {

constexpr int kMaxDepth = 8;  // accounts/<CA>/key.pem is the deepest we wrote

// Copies what sidecert could have written there: folders and plain files, 0700
// and 0600 (it is all private). Links and anything else are not ours: left behind.
Status copyTree(FileSystem& fs, const Path& from, const Path& to, int depth) {
  auto kind = fs.kind(from);
  if (!kind) return std::unexpected(kind.error());
  if (*kind == EntryKind::File) {
    auto bytes = fs.readFile(from);
    if (!bytes) return std::unexpected(bytes.error());
    return fs.writeNew(to, *bytes, 0600, std::nullopt);
  }
  if (*kind != EntryKind::Directory) return {};
  if (depth >= kMaxDepth) return fail(from.string() + ": deeper than sidecert ever wrote");
  if (auto ok = fs.makeDir(to, 0700); !ok) return ok;
  auto names = fs.list(from);
  if (!names) return std::unexpected(names.error());
  for (const auto& n : *names)
    if (auto ok = copyTree(fs, from / n, to / n, depth + 1); !ok) return ok;
  return fs.syncDir(to);
}

// A rename where both are on one file system, else a copy and a removal.
Status move(FileSystem& fs, const Path& from, const Path& to) {
  auto renamed = fs.rename(from, to);
  if (renamed || renamed.error().code != EXDEV) return renamed;
  if (auto ok = copyTree(fs, from, to, 0); !ok) {
    (void)fs.removeTree(to);  // half a copy is no copy: the original stays
    return ok;
  }
  return fs.removeTree(from);
}

}  // namespace

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
    if (auto ok = move(fs, from, to); !ok) return wrap("move " + from.string() + " to " + to.string(), ok.error());
    moved += (moved.empty() ? "" : ",") + from.lexically_relative(old).string();
  }
  (void)fs.remove(old / "lock");
  (void)fs.remove(old);  // only if nothing is left in it
  return moved;
}

}  // namespace sc::store
