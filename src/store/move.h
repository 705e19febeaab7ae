#pragma once
// Moving an entry between the state folder and the volume, which are usually
// separate file systems (two Docker volumes): a rename where it can be one, else
// a copy and a removal, all through the anchored FileSystem.
#include "store/fs.h"

namespace sc::store {

// Copies only what sidecert could have written there: folders and plain files,
// made 0700 and 0600 (all of it is private). Links and anything else stay behind.
Status moveEntry(FileSystem& fs, const Path& from, const Path& to);

}  // namespace sc::store
