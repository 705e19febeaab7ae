#include "store/move.h"

#include <cerrno>

namespace sc::store {
namespace {

constexpr int kMaxDepth = 8;  // accounts/<CA>/key.pem is the deepest we wrote

Status copyTree(FileSystem& fs, const Path& from, const Path& to, int depth) {
  auto kind = fs.kind(from);
  if (!kind) return std::unexpected(kind.error());
  if (*kind == EntryKind::File) {
    auto bytes = fs.readFile(from);
    if (!bytes) return std::unexpected(bytes.error());
    return fs.writeNew(to, *bytes, 0600);
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

}  // namespace

Status moveEntry(FileSystem& fs, const Path& from, const Path& to) {
  auto renamed = fs.rename(from, to);
  if (renamed || renamed.error().code != EXDEV) return renamed;
  if (auto ok = copyTree(fs, from, to, 0); !ok) {
    (void)fs.removeTree(to);  // half a copy is no copy: the original stays
    return ok;
  }
  return fs.removeTree(from);
}

}  // namespace sc::store
