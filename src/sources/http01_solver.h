#pragma once
// http-01: each token's key authorization served by the responder while its
// order is in flight, confirmed reachable (in swarm mode) before the CA is told.
#include <string>
#include <vector>

#include "acme/challenge_publisher.h"
#include "acme/solver.h"

namespace sc::sources {

class Http01Solver final : public acme::Solver {
 public:
  Http01Solver(acme::ChallengePublisher& publisher, acme::ChallengeCheck* check) : publisher_(publisher), check_(check) {}
  const char* type() const override { return "http-01"; }
  Status present(const std::vector<acme::ChallengeTask>& tasks) override;
  void cleanUp() override;

 private:
  acme::ChallengePublisher& publisher_;
  acme::ChallengeCheck* check_;  // none: the CA is told at once
  std::vector<std::string> tokens_;
};

}  // namespace sc::sources
