#include "sources/webroot_solver.h"

#include <algorithm>

#include "log/log.h"

namespace sc::sources {

Status WebrootSolver::readyToOrder(const std::vector<std::string>&, const std::string&, const acme::Directory&) {
  return webroot_.prepare();
}

Status WebrootSolver::placed(const acme::ChallengeTask& t) {
  const std::string& token = t.challenge.token;
  if (std::find(tokens_.begin(), tokens_.end(), token) == tokens_.end()) tokens_.push_back(token);
  if (auto ok = webroot_.write(token, t.keyAuthorization); !ok) return ok;
  log::info("challenge_file_written", {{"identifier", t.identifier}, {"file", webroot_.fileOf(token).string()}});
  return {};
}

Status WebrootSolver::present(const std::vector<acme::ChallengeTask>& tasks) {
  std::vector<acme::PublishedChallenge> toConfirm;
  for (const auto& t : tasks) {
    if (auto ok = placed(t); !ok) return ok;
    if (responder_) responder_->publish(t.challenge.token, t.keyAuthorization);
    // One answered before is only waited for: the CA may be fetching it already.
    if (!t.answered) toConfirm.push_back({t.identifier, t.challenge.token, t.keyAuthorization});
  }
  if (check_ && !toConfirm.empty()) return check_->confirm(toConfirm);
  return {};
}

void WebrootSolver::cleanUp() {
  for (const auto& token : tokens_) {
    if (responder_) responder_->withdraw(token);
    // Kept in the record when it cannot go now: removed at the next order.
    if (auto ok = webroot_.remove(token); !ok)
      log::warn("challenge_file_not_removed", {{"file", webroot_.fileOf(token).string()}, {"error", ok.error().message}});
  }
  tokens_.clear();
}

void WebrootSolver::tidyUp() {
  if (auto ok = webroot_.removeLeftovers(); !ok)
    log::warn("challenge_file_not_removed", {{"file", webroot_.challengeDir().string()}, {"error", ok.error().message}});
}

}  // namespace sc::sources
