#pragma once
#include <string>
#include <vector>

#include "config/settings.h"
#include "core/result.h"

namespace sc {

// "none", "command:/usr/sbin/nginx -s reload" (split on spaces, no shell), or
// command:["prog","an arg with spaces"] when an argument needs spaces.
Result<ReloadSpec> parseReloadSpec(const std::string& text);
Result<ReloadSpec> reloadCommand(std::vector<std::string> argv);

}  // namespace sc
