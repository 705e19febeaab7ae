#pragma once
// Files a user drops into live/<name>/: taken into pending/<name>/ in the state
// folder until the set is whole, and moved aside (aside/...) when refused,
// superseded or accepted. Nothing a user put in the volume is ever deleted.
#include <map>
#include <string>
#include <vector>

#include "store/volume.h"
#include "store/volume_layout.h"

namespace sc::store {

class UserDrops {
 public:
  UserDrops(FileSystem& fs, VolumeLayout layout);

  // Copies a live file's bytes into pending/ and, unless told to keep it, removes
  // the live entry (its bytes are safe in pending/). An older drop of the same
  // file is moved aside, not overwritten.
  Status takeIntoPending(const std::string& file, const std::string& bytes, TimePoint now, bool removeOriginal);
  // The set files waiting in pending/, by name.
  Result<std::map<std::string, std::string>> pending();
  // Moves these live entries (or, for a foreign link, the link itself) aside;
  // returns where, relative to the volume.
  Result<std::string> moveLiveAside(const LiveView& view, const std::vector<std::string>& files,
                                    const std::string& why, TimePoint now);
  // Moves what waits in pending/ aside; "" when nothing waits.
  Result<std::string> movePendingAside(const std::string& why, TimePoint now);

 private:
  Path liveEntry(const std::string& file);

  FileSystem& fs_;
  VolumeLayout layout_;
};

}  // namespace sc::store
