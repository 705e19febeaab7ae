#pragma once
// http-01 through the gateway's own web server (SIDECERT_HTTP01_WEBROOT): each
// token written as a file the gateway serves (store/webroot.h), and also put in
// the responder's store when the responder listens beside it (then either way
// the CA reaches answers). Removed after the order, success or failure, and what
// a crash left is removed at the next order and after the first pass.
//
// No HTTP self-check before the CA is told, outside swarm mode: sidecert cannot
// know how the CA's fetch reaches the gateway (a public address the container
// may not reach back through NAT, a name only the internet resolves), and a
// check that fails where the CA would succeed would block issuance for good. What
// is checked is what sidecert controls: the file is read back beneath the webroot
// before the CA is told, with the content the CA expects (store/webroot.h).
#include <string>
#include <vector>

#include "acme/challenge_publisher.h"
#include "acme/solver.h"
#include "store/webroot.h"

namespace sc::sources {

class WebrootSolver final : public acme::Solver {
 public:
  // responder: the responder's token store when it listens too, else null;
  // check: swarm mode's gateway check, else null.
  WebrootSolver(store::Webroot webroot, acme::ChallengePublisher* responder, acme::ChallengeCheck* check)
      : webroot_(std::move(webroot)), responder_(responder), check_(check) {}
  const char* type() const override { return "http-01"; }
  // The folders are made, and a link planted in their place refused, before an
  // order: a webroot that cannot be written costs no order.
  Status readyToOrder(const std::vector<std::string>& names, const std::string& accountUrl,
                      const acme::Directory& directory) override;
  Status present(const std::vector<acme::ChallengeTask>& tasks) override;
  void cleanUp() override;
  void tidyUp() override;

 private:
  Status placed(const acme::ChallengeTask& task);

  store::Webroot webroot_;
  acme::ChallengePublisher* responder_;
  acme::ChallengeCheck* check_;
  std::vector<std::string> tokens_;  // written (or tried), to remove at cleanUp
};

}  // namespace sc::sources
