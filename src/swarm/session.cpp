#include "swarm/session.h"

#include <fstream>
#include <sstream>

#include "crypto/seal.h"
#include "log/log.h"
#include "swarm/spec_edit.h"

namespace sc::swarm {
namespace {

std::int64_t millis(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

Session::Session(net::DockerEngine& engine, std::string containerId, std::string sealPath, const TimeSource& clock)
    : api_(engine), containerId_(std::move(containerId)), sealPath_(std::move(sealPath)), clock_(clock) {}

Result<Service> Session::serviceNamed(const std::string& name) {
  if (!identity_.stack.empty()) {
    auto s = api_.service(identity_.stack + "_" + name);
    if (s || !s.error().is(ErrorKind::NotFound)) return s;
  }
  return api_.service(name);
}

Result<Session::Start> Session::start() {
  auto id = api_.identify(containerId_);
  if (!id) return std::unexpected(id.error());
  identity_ = *id;
  std::ifstream in(sealPath_, std::ios::binary);
  if (!in) {
    if (auto ok = mountSeal(); !ok) return std::unexpected(ok.error());
    return Start::Restarting;
  }
  std::ostringstream key;
  key << in.rdbuf();
  if (key.str().size() != crypto::kSealKeyBytes)
    return fail(sealPath_ + " holds " + std::to_string(key.str().size()) + " bytes, not a sealing key of " +
                std::to_string(crypto::kSealKeyBytes) + ": it is sidecert's own secret " +
                sealSecretName(identity_.serviceName) + "; remove the service's reference to anything else there");
  store_ = std::make_unique<SetStore>(api_, identity_.serviceName, key.str());
  return Start::Ready;
}

// Made once per scope, kept forever: losing it would make every sealed set unreadable.
Status Session::mountSeal() {
  const auto name = sealSecretName(identity_.serviceName);
  auto key = crypto::randomBytes(crypto::kSealKeyBytes);
  if (!key) return std::unexpected(key.error());
  bool created = false;
  auto id = api_.create(Kind::Secret, name, {{kLabelScope, identity_.serviceName}, {kLabelRole, kRoleSeal}}, *key,
                        &created);
  if (!id) return wrap("make the sealing key", id.error());
  auto mounted = api_.edit(identity_.serviceId, [&](Service& own) -> Result<bool> {
    mountInto(*own.spec, name, {{Kind::Secret, *id, name, kSealTarget, 0, 0, 0400}});
    return true;
  });
  if (!mounted) return wrap("give the sealing key to sidecert's own service", mounted.error());
  log::info("swarm_seal_mounted", {{"secret", name},
                                   {"created", created},
                                   {"service", identity_.serviceName},
                                   {"next", "swarm starts a new task of this service with it"}});
  return {};
}

Result<bool> Session::holdLease(std::string& waitReason) {
  std::optional<LeaseRecord> current;
  LeaseVerdict verdict;
  LeaseRecord mine;
  auto written = api_.edit(identity_.serviceId, [&](Service& own) -> Result<bool> {
    auto it = own.labels.find(kLabelLease);
    current = it == own.labels.end() ? std::nullopt : parseLease(it->second);
    bool holderStopped = false;
    const TimePoint now = clock_.now();
    if (current && current->holder != identity_.taskId && current->expires > now) {
      auto ended = api_.taskEnded(current->holder);
      if (!ended) return wrap("ask about the lease holder's task", ended.error());
      holderStopped = *ended;
    }
    verdict = judgeLease(current, identity_.taskId, holderStopped, now);
    if (!verdict.take) return false;
    mine = {identity_.taskId, now + kLeaseFor};
    setLabel(*own.spec, kLabelLease, formatLease(mine));
    return true;
  });
  if (!written && written.error().is(ErrorKind::Conflict)) {  // others write faster than we read
    waitReason = "the service changed under every attempt to write the lease";
    return false;
  }
  if (!written) return wrap("hold the lease", written.error());
  if (!*written) {
    waitReason = verdict.why;
    leaseEndsMs_ = 0;
    return false;
  }
  if (!current || current->holder != identity_.taskId)
    log::info("swarm_lease_taken", {{"task", identity_.taskId}, {"reason", verdict.why}});
  leaseEndsMs_ = millis(mine.expires);
  return true;
}

TimePoint Session::leaseEnds() const { return TimePoint(std::chrono::milliseconds(leaseEndsMs_.load())); }

Status Session::mayAct() const {
  if (leaseValid(leaseEnds(), clock_.now())) return {};
  return failAs(ErrorKind::Cancelled, "this sidecert does not hold the swarm lease (another task of " +
                                          identity_.serviceName + " may act): nothing is ordered or published");
}

}  // namespace sc::swarm
