#pragma once
// An ACME set kept in reserve in the state folder (held/<name>/) while a user
// certificate serves, to be published the moment that one ends. One per lineage;
// none is no error.
#include <optional>
#include <utility>

#include "store/set_folder.h"
#include "store/volume_layout.h"

namespace sc::store {

class HeldSet {
 public:
  // publishing: the modes its files get, the same as a published set's copy.
  HeldSet(FileSystem& fs, VolumeLayout layout, Publishing publishing = {});

  // Replaces the set held, if any.
  Status hold(const CertFiles& files, Source source);
  Result<std::optional<std::pair<Source, CertFiles>>> held();
  Status release();

 private:
  FileSystem& fs_;
  VolumeLayout layout_;
  Publishing publishing_;
};

}  // namespace sc::store
