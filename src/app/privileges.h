#pragma once
// Once port 80 is bound, sidecert holds no capability it does not use: whatever
// the runtime granted (plain root has 14), only what `keep` names survives, in
// the effective and permitted sets of the one thread that exists then, so of
// every thread started after. Where CAP_SETPCAP allows, the bounding set is
// emptied of everything else too; and no_new_privs is set, so that a reload
// command (the only exec) cannot gain a capability back, whatever the runtime did.
#include <string>
#include <vector>

#include "core/result.h"

namespace sc::app {

struct Needs {
  bool readOthersFiles = true;  // CAP_DAC_READ_SEARCH: a key `docker cp` left 0600 for another owner
  bool chownToGroup = false;    // CAP_CHOWN: SIDECERT_FILE_GROUP, SIDECERT_FILE_OWNER
  bool signalOthers = false;    // CAP_KILL: signal:PROCESS, a gateway of another user
};

struct Dropped {
  std::vector<std::string> kept;  // capability names, lower case, without cap_
  int dropped = 0;                // how many were given up
  bool boundingEmptied = false;   // false without CAP_SETPCAP
};

// Call while the process has one thread: capabilities are per thread.
Result<Dropped> dropPrivileges(const Needs& needs);

}  // namespace sc::app
