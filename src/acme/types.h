#pragma once
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/problem_type.h"

namespace sc::acme {

// RFC 8555 6.7: a problem document, with its subproblems.
struct Problem {
  std::string type;    // full URN, as the CA wrote it: for messages
  ProblemType kind = ProblemType::Other;  // the type, parsed once in wire.cpp
  std::string detail;
  int status = 0;
  std::string identifier;  // subproblems name the identifier they are about
  std::vector<Problem> subproblems;
  bool is(ProblemType t) const { return kind == t; }
  std::string describe() const;          // "rateLimited: too many ... [a.test: dns: ...]"
};

inline constexpr const char* kErrorPrefix = "urn:ietf:params:acme:error:";

// RFC 8555 7.1.6: the states of an order, an authorization and a challenge, parsed
// once in wire.cpp, where a status RFC 8555 does not define for the object is a
// Protocol error. Decisions switch on them, so -Wswitch names a state left out.
enum class OrderStatus { Pending, Ready, Processing, Valid, Invalid };
enum class AuthorizationStatus { Pending, Valid, Invalid, Deactivated, Expired, Revoked };
enum class ChallengeStatus { Pending, Processing, Valid, Invalid };
// The names RFC 8555 gives them, for messages and logs.
const char* statusName(OrderStatus s);
const char* statusName(AuthorizationStatus s);
const char* statusName(ChallengeStatus s);

struct Directory {
  std::string newNonce, newAccount, newOrder, revokeCert, renewalInfo;
  bool externalAccountRequired = false;
  std::vector<std::string> profiles;  // draft-aaron-acme-profiles: meta.profiles keys
  std::vector<std::string> caaIdentities;  // RFC 8555 7.1.1: the names the CA goes by (dns-persist-01's issuer)
};

struct Challenge {
  std::string type, url, token;  // dns-persist-01 has no token
  ChallengeStatus status = ChallengeStatus::Pending;
  // dns-persist-01 (draft-01): the account the record must name, and the issuer
  // names it may give.
  std::string accountUri;
  std::vector<std::string> issuerDomainNames;
};

struct Authorization {
  std::string url;
  AuthorizationStatus status = AuthorizationStatus::Pending;
  std::string identifier;
  bool wildcard = false;  // for "*.<identifier>" (RFC 8555 7.1.4)
  std::vector<Challenge> challenges;
  std::optional<Problem> error;  // of the failed challenge
};

struct Order {
  std::string url;
  OrderStatus status = OrderStatus::Pending;
  std::string finalize, certificate;
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
