#include "app/privileges.h"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

namespace sc::app {
namespace {

bool has(const __user_cap_data_struct* data, int cap, __u32 __user_cap_data_struct::*set) {
  return (data[cap / 32].*set) & (1u << (cap % 32));
}

// The capabilities this kernel knows: PR_CAPBSET_READ says EINVAL past the last.
int lastCapability() {
  int cap = 0;
  while (::prctl(PR_CAPBSET_READ, cap + 1, 0, 0, 0) >= 0) ++cap;
  return cap;
}

}  // namespace

Result<Dropped> dropPrivileges(const Needs& needs) {
  const std::pair<int, const char*> wanted[] = {{CAP_DAC_READ_SEARCH, needs.readOthersFiles ? "dac_read_search" : nullptr},
                                                {CAP_CHOWN, needs.chownToGroup ? "chown" : nullptr},
                                                {CAP_KILL, needs.signalOthers ? "kill" : nullptr}};
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (::syscall(SYS_capget, &header, data) != 0) return failErrno("read", "the process's capabilities");

  Dropped out;
  __user_cap_data_struct keep[_LINUX_CAPABILITY_U32S_3] = {};
  for (const auto& [cap, name] : wanted) {
    if (!name || !has(data, cap, &__user_cap_data_struct::permitted)) continue;
    keep[cap / 32].permitted |= 1u << (cap % 32);
    out.kept.push_back(name);
  }
  const int last = lastCapability();
  for (int cap = 0; cap <= last; ++cap)
    if (has(data, cap, &__user_cap_data_struct::permitted) && !has(keep, cap, &__user_cap_data_struct::permitted))
      ++out.dropped;

  // The bounding set first: dropping from it needs CAP_SETPCAP, about to go.
  if (has(data, CAP_SETPCAP, &__user_cap_data_struct::effective)) {
    for (int cap = 0; cap <= last; ++cap) {
      if (has(keep, cap, &__user_cap_data_struct::permitted)) continue;
      if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0)
        return failErrno("drop from the bounding set", "capability " + std::to_string(cap));
    }
    out.boundingEmptied = true;
  }
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
    return failErrno("clear", "the ambient capabilities");
  for (auto& d : keep) d.effective = d.permitted;  // inheritable stays empty
  if (::syscall(SYS_capset, &header, keep) != 0) return failErrno("give up", "capabilities");
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return failErrno("set", "no_new_privs");
  return out;
}

}  // namespace sc::app
