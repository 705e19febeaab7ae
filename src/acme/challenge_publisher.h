#pragma once
#include <string>

namespace sc::acme {

// Where HTTP-01 key authorizations are served from (http01/ implements it).
class ChallengePublisher {
 public:
  virtual ~ChallengePublisher() = default;
  virtual void publish(const std::string& token, const std::string& keyAuthorization) = 0;
  virtual void withdraw(const std::string& token) = 0;
};

}  // namespace sc::acme
