#pragma once
// Once port 80 is bound, the right to bind it is of no further use: give it up,
// so that a flaw found later cannot take another privileged port.
#include <string>

#include "core/result.h"

namespace sc::app {

// Removes CAP_NET_BIND_SERVICE from the effective, permitted and inheritable
// sets. Returns what was dropped ("" when the process never had it).
Result<std::string> dropBindPrivilege();

}  // namespace sc::app
