#include "store/revocation_marks.h"

#include "core/time_format.h"

namespace sc::store {

RevocationMarks::RevocationMarks(FileSystem& fs, VolumeLayout layout) : fs_(fs), layout_(std::move(layout)) {}

Status RevocationMarks::mark(const std::string& id, TimePoint now) {
  if (auto ok = fs_.remove(markOf(id)); !ok) return ok;
  if (auto ok = fs_.writeNew(markOf(id), formatTime(now) + "\n", 0600); !ok)
    return wrap("mark " + id + " revoked", ok.error());
  return fs_.syncDir(layout_.sets() / id);
}

bool RevocationMarks::isRevoked(const std::string& id) {
  return fs_.kind(markOf(id)).value_or(EntryKind::Missing) == EntryKind::File;
}

}  // namespace sc::store
