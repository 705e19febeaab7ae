#pragma once
// Earlier versions kept sidecert's state in <volume>/sidecert/, where the gateway
// can read the ACME account key. Moved on first start: accounts, sets, pending
// files and state to the state folder, aside/ (which users read) to <volume>/aside/.
#include "store/fs.h"

namespace sc::store {

// What was moved ("" when nothing was there). An entry the new place already has
// stays where it was, untouched.
Result<std::string> moveStateOutOfVolume(FileSystem& fs, const Path& volume, const Path& stateDir);

}  // namespace sc::store
