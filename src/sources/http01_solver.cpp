#include "sources/http01_solver.h"

namespace sc::sources {

Status Http01Solver::present(const std::vector<acme::ChallengeTask>& tasks) {
  std::vector<acme::PublishedChallenge> toConfirm;
  for (const auto& t : tasks) {
    publisher_.publish(t.challenge.token, t.keyAuthorization);
    tokens_.push_back(t.challenge.token);
    // One answered before is only waited for: the CA may be fetching it already.
    if (!t.answered) toConfirm.push_back({t.identifier, t.challenge.token, t.keyAuthorization});
  }
  if (check_ && !toConfirm.empty()) return check_->confirm(toConfirm);
  return {};
}

void Http01Solver::cleanUp() {
  for (const auto& t : tokens_) publisher_.withdraw(t);
  tokens_.clear();
}

}  // namespace sc::sources
