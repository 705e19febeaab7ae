#pragma once
// The self-check of swarm mode, before a CA is asked to validate: the CA's fetch
// of port 80 lands on the gateway task of whichever node it picks, and that task
// passes it on to http://sidecert:80 by the name its node resolves. Just after
// sidecert's task was replaced (its first start mounts the sealing key), a node
// may not know the new address for some seconds: a CA asked then fails the
// order, and the failure counts against its limits. So every running gateway
// task is asked first, at its address on a network sidecert shares and at the
// port that published port 80 leads to, as the CA would ask (cert-manager checks
// the same way before it accepts a challenge).
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "acme/challenge_publisher.h"
#include "acme/transport.h"
#include "net/http_probe.h"
#include "swarm/session.h"

namespace sc::swarm {

struct CheckTiming {
  // How long the gateways may take to serve every challenge. Past it the CA is
  // not asked: the attempt fails and the order is resumed by the next one.
  std::chrono::seconds patience{120};
  std::chrono::milliseconds pause{1000};  // between rounds of asking
};

class GatewayCheck final : public acme::ChallengeCheck {
 public:
  GatewayCheck(Session& session, std::string gateway, net::HttpProbe& probe, acme::Sleeper& sleeper,
               CheckTiming timing = {});
  Status confirm(const std::vector<acme::PublishedChallenge>& challenges) override;

  struct Path {
    std::string task, node, address;
    int port = 0;
    std::string describe() const;
  };

 private:
  // What stays the same while one check waits: the gateway service, the port
  // published 80 leads to, and the networks sidecert's own task is on.
  struct Target {
    std::string serviceId, serviceName;
    int port = 0;
    std::map<std::string, std::string> ownNetworks;  // network ID -> sidecert's address there
  };
  Result<Target> target();
  // The gateway's running tasks as the CA reaches them now (tasks come and go
  // while it waits); none, with the reason, when no task is on a shared network.
  Result<std::vector<Path>> paths(const Target& target);
  // "" when that path serves the challenge; else what it did instead.
  std::string failureAt(const Path& path, const acme::PublishedChallenge& challenge);

  Session& session_;
  std::string gateway_;
  net::HttpProbe& probe_;
  acme::Sleeper& sleeper_;
  CheckTiming timing_;
};

}  // namespace sc::swarm
