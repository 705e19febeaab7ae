#pragma once
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"

namespace sc::acme {

// RFC 8555 6.7: a problem document, with its subproblems.
struct Problem {
  std::string type;    // full URN
  std::string detail;
  int status = 0;
  std::string identifier;  // subproblems name the identifier they are about
  std::vector<Problem> subproblems;
  bool is(const char* shortType) const;  // is("badNonce")
  std::string describe() const;          // "rateLimited: too many ... [a.test: dns: ...]"
};

inline constexpr const char* kErrorPrefix = "urn:ietf:params:acme:error:";

struct Directory {
  std::string newNonce, newAccount, newOrder, revokeCert, renewalInfo;
  bool externalAccountRequired = false;
  std::vector<std::string> profiles;  // draft-aaron-acme-profiles: meta.profiles keys
};

struct Challenge {
  std::string type, url, token, status;
};

struct Authorization {
  std::string url, status, identifier;
  std::vector<Challenge> challenges;
  std::optional<Problem> error;  // of the failed challenge
};

struct Order {
  std::string url, status, finalize, certificate;
  std::string profile, replaces;  // as the CA echoes them: what it took of the request
  std::size_t identifiers = 0;  // how many names it was placed for: bounds its authorizations
  std::vector<std::string> authorizations;
  std::optional<Problem> error;
};

struct RenewalInfo {
  TimePoint start, end;
  std::chrono::seconds retryAfter{0};
  std::string explanationUrl;
};

}  // namespace sc::acme
