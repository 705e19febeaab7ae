#pragma once
// Keeps the gateway views (store/gateway_views.h) in the volume in step with the
// lineages: called with the whole list after every publish and whenever lineages
// come or go, it makes the files match it, idempotently.
//
// The volume is hostile ground: everything goes through the FileSystem, which
// never follows a link. Each file is replaced whole (temp, then rename over), so
// a reader sees the old file or the new one. A link of nginx-proxy's layout
// points through live/<name>, which is itself swapped in one step, so a view
// changes with its set. Only what sidecert made is ever replaced or removed:
// a host's file that is a user's own (a regular file, or a link to elsewhere) is
// left as it is and logged once.
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "core/result.h"
#include "store/fs.h"
#include "store/gateway_views.h"

namespace sc::store {

struct ViewOptions {
  bool nginxProxyLinks = false;  // SIDECERT_LAYOUT=nginx-proxy
};

class Views {
 public:
  Views(FileSystem& fs, Path volume, ViewOptions options);

  // Safe from several pass threads at once. An error names the file that could
  // not be made; the others are still made.
  Status update(const std::vector<LineageEntry>& lineages);

 private:
  Status writeKept(const std::string& rel, const std::string& content);
  Status keepLinks(const std::vector<LineageEntry>& lineages, bool& changed);
  Status keepLink(const std::string& file, const std::string& target, bool& changed);
  Status removeStaleLinks(const std::map<std::string, std::string>& wanted, bool& changed);
  void reportOnce(const std::string& file, const std::string& why);

  FileSystem& fs_;
  Path volume_;
  ViewOptions options_;
  std::mutex mutex_;
  std::set<std::string> reported_;  // files whose owner was logged: once each
};

}  // namespace sc::store
