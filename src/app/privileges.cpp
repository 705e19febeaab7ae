#include "app/privileges.h"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace sc::app {

Result<std::string> dropBindPrivilege() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (::syscall(SYS_capget, &header, data) != 0) return failErrno("read", "the process's capabilities");
  const unsigned bit = 1u << CAP_NET_BIND_SERVICE;  // below 32: in data[0]
  if (!(data[0].permitted & bit)) return std::string();
  data[0].effective &= ~bit;
  data[0].permitted &= ~bit;
  data[0].inheritable &= ~bit;
  // The bounding set too where we may (CAP_SETPCAP): root regains its bounding set
  // across exec, and reload commands are exec'd.
  ::prctl(PR_CAPBSET_DROP, CAP_NET_BIND_SERVICE, 0, 0, 0);
  if (::syscall(SYS_capset, &header, data) != 0) return failErrno("drop", "CAP_NET_BIND_SERVICE");
  return std::string("net_bind_service");
}

}  // namespace sc::app
