#pragma once
#include <string>

#include "core/result.h"

namespace sc {

// Checks a configured DNS name and returns it in lower case. Wildcards and IP
// addresses are refused (an e-mail address's domain, a host name).
Result<std::string> validateDomain(const std::string& name);

// Checks a name a certificate is for: a DNS name as above, or an IPv4 or IPv6
// address (RFC 8738), returned in its canonical form (dotted decimal; RFC 5952
// for IPv6). Spellings of an IPv4 address that readers take differently (127.1,
// 0x7f.0.0.1, 0177.0.0.1, 2130706433) are refused, naming the address they mean.
Result<std::string> validateIdentifier(const std::string& name);

// True for an IP address in the form validateIdentifier returns.
bool isIpAddress(const std::string& name);

// A name a certificate may be for: what validateIdentifier accepts, or a wildcard
// "*.<DNS name>" (the whole leftmost label; RFC 8555 7.1.3), in lower case.
// Which challenge may prove a wildcard is the caller's concern.
Result<std::string> validateCertificateName(const std::string& name);
bool isWildcard(const std::string& name);
// The DNS name a challenge is about: a wildcard's base domain ("*.a.test" -> "a.test").
std::string challengeDomain(const std::string& name);

}  // namespace sc
