#pragma once
// What sidecert keeps in a swarm's Raft store, and how it names it. Every object
// carries labels that say whose it is (the scope: sidecert's own service), which
// lineage, which generation and what it holds; names are derived from the same
// facts so that creating one twice finds the first.
#include <map>
#include <string>

namespace sc::swarm {

enum class Kind { Secret, Config };

struct StoredObject {
  Kind kind = Kind::Config;
  std::string id;
  std::string name;
  std::map<std::string, std::string> labels;
  std::string data;  // configs only: the API gives secrets' data to nobody
  std::string label(const std::string& key) const {
    auto it = labels.find(key);
    return it == labels.end() ? "" : it->second;
  }
  int generation() const;  // -1 when the label is missing or not a number
};

inline constexpr const char* kLabelScope = "sidecert.scope";
inline constexpr const char* kLabelLineage = "sidecert.lineage";
inline constexpr const char* kLabelGeneration = "sidecert.generation";
inline constexpr const char* kLabelRole = "sidecert.role";  // a file's name, "set", "account" or "seal"
inline constexpr const char* kLabelSource = "sidecert.source";
inline constexpr const char* kLabelFingerprint = "sidecert.fingerprint";
inline constexpr const char* kLabelNotAfter = "sidecert.not_after";
inline constexpr const char* kLabelCa = "sidecert.ca";
// The lease, on sidecert's own service: "<task id> <expiry, unix seconds>".
inline constexpr const char* kLabelLease = "sidecert.lease";

inline constexpr const char* kRoleSet = "set";
inline constexpr const char* kRoleAccount = "account";
inline constexpr const char* kRoleSeal = "seal";

// 8 hex digits of the scope's SHA-256: names stay short, and two stacks differ.
std::string scopeTag(const std::string& scope);
// "sc-<tag>-<lineage>-": the start of every name of a lineage's objects.
std::string lineagePrefix(const std::string& scope, const std::string& lineage);
// "sc-<tag>-<lineage>-<fingerprint's first 10>-<role>", at most 64 characters
// (the engine's limit); role "privkey.pem" is written "privkey".
std::string objectName(const std::string& scope, const std::string& lineage, const std::string& fingerprintHex,
                       const std::string& role);
std::string sealSecretName(const std::string& scope);
std::string accountName(const std::string& scope, const std::string& caUrl);
// Where the sealing key appears in sidecert's own tasks (/run/secrets/<this>).
inline constexpr const char* kSealTarget = "sidecert-seal";

}  // namespace sc::swarm
