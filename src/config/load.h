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

// A discovered setting: its text, and the label (or variable) that gave it.
struct DiscoveredValue {
  std::string text;
  std::string label;  // "sidecert.domains", "LETSENCRYPT_HOST"
  bool operator==(const DiscoveredValue&) const = default;
};

// One lineage from the settings of one certificate, as an entry of `certificates:`
// gives them (a discovered container's labels): the same checks, each message
// naming `origin` and the label ("container web-1: label sidecert.domains: ...").
// Keys: name, domains, key_type, acme_profile, renew_before, challenge.
Result<CertificateSpec> certificateFrom(const std::map<std::string, DiscoveredValue>& values, const std::string& origin,
                                        const Settings& shared);

}  // namespace sc
