#include "core/domain.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <optional>

namespace sc {
namespace {

constexpr std::size_t kMaxName = 253;   // RFC 1035 2.3.4, without the root dot
constexpr std::size_t kMaxLabel = 63;

// Every spelling the C library (and so curl, and a gateway) reads as an IPv4
// address: 127.1, 0x7f.0.0.1, 0177.0.0.1, 2130706433. A name whose last label is
// all digits is none either (RFC 3696 2: a top-level domain is not numeric).
bool isIpLiteral(const std::string& s) {
  in_addr v4{};
  if (::inet_aton(s.c_str(), &v4) != 0) return true;
  std::string last = s.substr(s.rfind('.') == std::string::npos ? 0 : s.rfind('.') + 1);
  return !last.empty() && std::all_of(last.begin(), last.end(), [](unsigned char c) { return std::isdigit(c); });
}

std::string checkLabel(const std::string& label) {
  if (label.empty()) return "has an empty label";
  if (label.size() > kMaxLabel) return "has a label longer than 63 characters";
  if (label.front() == '-' || label.back() == '-') return "has a label that starts or ends with '-'";
  for (char c : label)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-'))
      return std::string("contains '") + c + "', which is not allowed in a DNS name";
  return "";
}

// The text inet_ntop writes for what inet_pton read: the canonical form, RFC 5952
// for IPv6 (lower case, the longest run of zero groups as "::").
std::optional<std::string> canonicalAddress(const std::string& s) {
  unsigned char bytes[16];
  char text[INET6_ADDRSTRLEN] = {0};
  for (int family : {AF_INET, AF_INET6})
    if (::inet_pton(family, s.c_str(), bytes) == 1 && ::inet_ntop(family, bytes, text, sizeof text) != nullptr)
      return std::string(text);
  return std::nullopt;
}

}  // namespace

bool isIpAddress(const std::string& name) {
  auto canonical = canonicalAddress(name);
  return canonical && *canonical == name;
}

Result<std::string> validateIdentifier(const std::string& raw) {
  if (auto canonical = canonicalAddress(raw)) return *canonical;
  in_addr v4{};
  if (::inet_aton(raw.c_str(), &v4) != 0) {
    char text[INET_ADDRSTRLEN] = {0};
    ::inet_ntop(AF_INET, &v4, text, sizeof text);
    return fail("'" + raw + "' is an ambiguous spelling of the IP address " + text + ": write it as " + text);
  }
  if (raw.find(':') != std::string::npos)
    return fail("'" + raw + "' is not an IPv6 address (brackets, a zone or a port are not part of one)");
  return validateDomain(raw);
}

Result<std::string> validateCertificateName(const std::string& raw) {
  if (raw.rfind("*.", 0) != 0) return validateIdentifier(raw);
  auto base = validateDomain(raw.substr(2));
  if (!base) return fail("'" + raw + "': the part after '*.' " + base.error().message.substr(base.error().message.find("' ") + 2));
  return "*." + *base;
}

bool isWildcard(const std::string& name) { return name.rfind("*.", 0) == 0; }

std::string challengeDomain(const std::string& name) { return isWildcard(name) ? name.substr(2) : name; }

Result<std::string> validateDomain(const std::string& raw) {
  std::string name = raw;
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  auto bad = [&](const std::string& why) { return fail("'" + raw + "' " + why); };
  if (name.empty()) return bad("is empty");
  if (name.size() > kMaxName) return bad("is longer than 253 characters");
  if (name.rfind("*.", 0) == 0) return bad("is a wildcard, not a host name");
  if (name.find(':') != std::string::npos || isIpLiteral(name))
    return bad("is an IP address or a numeric name, not a DNS name");
  std::size_t start = 0;
  while (true) {
    std::size_t dot = name.find('.', start);
    std::string why = checkLabel(name.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (!why.empty()) return bad(why);
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return name;
}

}  // namespace sc
