#pragma once
// A set the CA revoked is kept, marked (sets/<name>/<id>/revoked, the time it was
// marked), and no longer used.
#include <string>

#include "store/volume_layout.h"

namespace sc::store {

class RevocationMarks {
 public:
  RevocationMarks(FileSystem& fs, VolumeLayout layout);

  // Marks our copy of set `id`; marking it again only moves the time.
  Status mark(const std::string& id, TimePoint now);
  bool isRevoked(const std::string& id);

 private:
  Path markOf(const std::string& id) const { return layout_.sets() / id / "revoked"; }

  FileSystem& fs_;
  VolumeLayout layout_;
};

}  // namespace sc::store
