#pragma once
#include <string>
#include <vector>

#include "core/result.h"

namespace sc::acme {

// Where HTTP-01 key authorizations are served from (http01/ implements it).
class ChallengePublisher {
 public:
  virtual ~ChallengePublisher() = default;
  virtual void publish(const std::string& token, const std::string& keyAuthorization) = 0;
  virtual void withdraw(const std::string& token) = 0;
};

struct PublishedChallenge {
  std::string identifier;  // the name the CA will fetch it for
  std::string token;
  std::string keyAuthorization;
};

// Asked after the challenges are published and before the CA is told to fetch
// them: whether the CA's way to the responder works yet. A CA's failed fetch ends
// the order and counts against its failed-validation limit; a wait here does not.
class ChallengeCheck {
 public:
  virtual ~ChallengeCheck() = default;
  // OK once they are served the way the CA will fetch them (or when that cannot
  // be known); an error naming what does not serve them.
  virtual Status confirm(const std::vector<PublishedChallenge>& challenges) = 0;
};

}  // namespace sc::acme
