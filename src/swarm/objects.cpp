#include "swarm/objects.h"

#include <charconv>

#include "crypto/encoding.h"

namespace sc::swarm {
namespace {

std::string shortRole(const std::string& role) {
  auto dot = role.find('.');
  return dot == std::string::npos ? role : role.substr(0, dot);
}

}  // namespace

int StoredObject::generation() const {
  auto text = label(kLabelGeneration);
  int g = -1;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), g);
  return ec == std::errc() && end == text.data() + text.size() && g >= 0 ? g : -1;
}

std::string scopeTag(const std::string& scope) { return crypto::hex(crypto::sha256(scope)).substr(0, 8); }

std::string lineagePrefix(const std::string& scope, const std::string& lineage) {
  // 64 = "sc-" 3 + tag 8 + "-" + lineage + "-" + 10 + "-" + role (at most 9)
  return "sc-" + scopeTag(scope) + "-" + lineage.substr(0, 30) + "-";
}

std::string objectName(const std::string& scope, const std::string& lineage, const std::string& fingerprintHex,
                       const std::string& role) {
  return lineagePrefix(scope, lineage) + fingerprintHex.substr(0, 10) + "-" + shortRole(role);
}

std::string sealSecretName(const std::string& scope) { return "sc-" + scopeTag(scope) + "-seal"; }

std::string accountName(const std::string& scope, const std::string& caUrl) {
  return "sc-" + scopeTag(scope) + "-account-" + crypto::hex(crypto::sha256(caUrl)).substr(0, 10);
}

}  // namespace sc::swarm
