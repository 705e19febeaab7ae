#include "swarm/gateway_check.h"

#include <Poco/Net/IPAddress.h>

#include <map>
#include <set>

#include "core/duration.h"
#include "log/log.h"

namespace sc::swarm {
namespace {

constexpr int kHttp01Port = 80;  // where every CA fetches an HTTP-01 challenge

std::string namesOf(const std::vector<acme::PublishedChallenge>& challenges) {
  std::string out;
  for (const auto& c : challenges) out += (out.empty() ? "" : ",") + c.identifier;
  return out;
}

std::string shortId(const std::string& id) { return id.substr(0, 12); }

}  // namespace

GatewayCheck::GatewayCheck(Session& session, std::string gateway, net::HttpProbe& probe, acme::Sleeper& sleeper,
                           CheckTiming timing)
    : session_(session), gateway_(std::move(gateway)), probe_(probe), sleeper_(sleeper), timing_(timing) {}

std::string GatewayCheck::Path::describe() const {
  return "task " + shortId(task) + " on node " + shortId(node) + " (" + address + ":" + std::to_string(port) + ")";
}

Result<GatewayCheck::Target> GatewayCheck::target() {
  auto service = session_.serviceNamed(gateway_);
  if (!service) return std::unexpected(service.error());
  auto port = targetPort(*service, kHttp01Port);
  if (!port) return fail("service " + service->name + " publishes no port " + std::to_string(kHttp01Port));
  const auto& self = session_.identity().taskId;
  if (self.empty()) return fail("sidecert's own task is not known");
  auto own = session_.api().task(self);
  if (!own) return std::unexpected(own.error());
  return Target{service->id, service->name, *port, own->addresses};
}

Result<std::vector<GatewayCheck::Path>> GatewayCheck::paths(const Target& target) {
  auto tasks = session_.api().tasksOf(target.serviceId);
  if (!tasks) return std::unexpected(tasks.error());
  std::vector<Path> out;
  for (const auto& t : *tasks) {
    if (t.state != "running") continue;  // one starting gets the set by the rollout, not the CA's fetch
    for (const auto& [network, address] : t.addresses) {
      Poco::Net::IPAddress parsed;
      if (!target.ownNetworks.count(network) || !Poco::Net::IPAddress::tryParse(address, parsed)) continue;
      out.push_back({t.id, t.nodeId, address, target.port});
      break;
    }
  }
  if (out.empty()) return fail("no running task of " + target.serviceName + " is on a network sidecert's task shares");
  return out;
}

std::string GatewayCheck::failureAt(const Path& path, const acme::PublishedChallenge& challenge) {
  auto reply = probe_.get(path.address, path.port, challenge.identifier, "/.well-known/acme-challenge/" + challenge.token);
  if (!reply) return reply.error().message;
  if (reply->status != 200) return "HTTP " + std::to_string(reply->status);
  if (reply->body != challenge.keyAuthorization) return "HTTP 200 with another body than the key authorization";
  return "";
}

Status GatewayCheck::confirm(const std::vector<acme::PublishedChallenge>& challenges) {
  const auto& clock = session_.clock();
  const auto start = clock.now();
  auto waited = [&] { return std::chrono::duration_cast<std::chrono::milliseconds>(clock.now() - start); };
  auto skipped = [&](const Error& why) {
    log::info("challenge_check_skipped", {{"names", namesOf(challenges)}, {"gateway", gateway_}, {"reason", why.message}});
    return Status{};
  };
  auto to = target();
  if (!to) return skipped(to.error());
  std::set<std::string> served;  // task + token: a path that served once is not asked again
  for (int round = 0;; ++round) {
    auto gateways = paths(*to);
    if (!gateways) return skipped(gateways.error());
    std::map<std::string, std::string> failing;  // where -> what it answered
    for (const auto& path : *gateways)
      for (const auto& challenge : challenges) {
        if (served.count(path.task + "/" + challenge.token)) continue;
        auto failure = failureAt(path, challenge);
        if (failure.empty()) served.insert(path.task + "/" + challenge.token);
        else failing[path.describe() + " for " + challenge.identifier] = failure;
      }
    if (failing.empty()) {
      log::info("challenge_reachable", {{"names", namesOf(challenges)}, {"gateway", gateway_},
                                        {"gateways", static_cast<int>(gateways->size())},
                                        {"waited_ms", static_cast<std::int64_t>(waited().count())}});
      return {};
    }
    std::string what;
    for (const auto& [where, answer] : failing) what += (what.empty() ? "" : "; ") + where + ": " + answer;
    if (round == 0)
      log::info("challenge_check_waiting", {{"names", namesOf(challenges)}, {"gateway", gateway_}, {"failing", what}});
    if (waited() >= timing_.patience)
      return fail("the CA was not asked to validate " + namesOf(challenges) + ": after " +
                  formatDuration(std::chrono::duration_cast<std::chrono::seconds>(waited())) +
                  ", " + std::to_string(failing.size()) + " fetch(es) through the gateway " + gateway_ +
                  " still fail (" + what + "); each gateway task must pass /.well-known/acme-challenge/ on port 80 to "
                  "sidecert's responder; the order is kept for the next attempt");
    sleeper_.sleep(timing_.pause);
    if (sleeper_.cancelled()) return failAs(ErrorKind::Cancelled, "stopped while the gateways were checked");
  }
}

}  // namespace sc::swarm
