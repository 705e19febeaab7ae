#pragma once
#include <sys/types.h>

#include <map>
#include <optional>
#include <string>

#include "config/settings.h"
#include "core/result.h"

namespace sc {

using Environment = std::map<std::string, std::string>;

Environment processEnvironment();

// A group given as a number: 0 to 2^32-2 (2^32-1 is "no group" to chown).
std::optional<gid_t> numericGroup(const std::string& text);

// Reads the YAML file (if any), then the environment over it, then the defaults,
// and checks every value. An error names the key and, for YAML, file and line:
// "sidecert.yml:4: key_type: unknown key type 'ec512' (expected ...)".
Result<Settings> loadSettings(const std::optional<std::string>& configFile, const Environment& env,
                              const std::string& hostname);

}  // namespace sc
