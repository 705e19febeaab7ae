#include "swarm/publisher.h"

#include <thread>

#include "crypto/cert.h"
#include "log/log.h"
#include "store/cert_files.h"

namespace sc::swarm {
SwarmPublisher::SwarmPublisher(Session& session, PublishTarget target)
    : session_(session), target_(std::move(target)) {}

std::string SwarmPublisher::describe() const { return "swarm:" + target_.service + ":" + target_.dir; }

Result<Service> SwarmPublisher::targetService() { return session_.serviceNamed(target_.service); }

std::vector<Mount> SwarmPublisher::mountsFor(const std::string& lineage, const Generation& g) const {
  std::vector<Mount> out;
  for (const auto& o : g.files) {
    const auto file = o.label(kLabelRole);
    bool key = store::holdsKey(file);
    out.push_back({o.kind, o.id, o.name, target_.dir + "/live/" + lineage + "/" + file, target_.uid, target_.gid,
                   key ? target_.keyMode : target_.certMode});
  }
  return out;
}

Result<bool> SwarmPublisher::pointServiceAt(const std::string& lineage, const Generation& g) {
  const auto mounts = mountsFor(lineage, g);
  const auto prefix = lineagePrefix(session_.store().scope(), lineage);
  auto target = targetService();
  if (!target) return wrap(describe(), target.error());
  auto updated = session_.api().edit(target->id, [&](Service& service) -> Result<bool> {
    if (!mountInto(*service.spec, prefix, mounts)) return false;
    if (auto ok = session_.mayAct(); !ok) return std::unexpected(ok.error());
    return true;
  });
  if (!updated) return std::unexpected(updated.error());
  if (*updated)
    log::info("swarm_service_updated", {{"name", lineage}, {"service", target->name}, {"generation", g.number}});
  else
    log::debug("swarm_service_current", {{"name", lineage}, {"service", target->name}, {"generation", g.number}});
  return updated;
}

Result<bool> SwarmPublisher::repoint(const std::string& lineage) {
  std::unique_lock lock(busy_, std::try_to_lock);
  if (!lock) return false;  // the reload under way points it
  try {
    auto newest = session_.store().newest(lineage);
    if (!newest) return std::unexpected(newest.error());
    if (!*newest) return false;
    auto leaf = crypto::Certificate::parseAll((*newest)->files.cert);
    if (!leaf || leaf->empty()) return fail(describe() + ": the stored set's certificate does not parse");
    auto g = session_.store().put(lineage, (*newest)->files, (*newest)->source, leaf->front().notAfter());
    if (!g) return std::unexpected(g.error());
    auto updated = pointServiceAt(lineage, *g);
    if (updated && *updated)
      log::warn("swarm_service_repointed", {{"name", lineage},
                                            {"generation", g->number},
                                            {"reason", "its spec no longer named the set (deployed again?)"}});
    return updated;
  } catch (const Poco::Exception& e) {
    return fail(describe() + ": the Docker engine's reply does not parse: " + e.displayText());
  }
}

Status SwarmPublisher::reload(const reload::ReloadEvent& event) {
  std::lock_guard lock(busy_);
  try {
    if (auto ok = session_.mayAct(); !ok) return ok;
    const auto& files = event.files;
    if (!files) return fail(describe() + ": live/" + event.name + " holds no set to hand on");
    auto leaf = crypto::Certificate::parseAll(files->cert);
    if (!leaf || leaf->empty()) return fail(describe() + ": the live set's cert.pem does not parse");
    auto source = store::parseSource(event.source).value_or(store::Source::SelfSigned);
    auto g = session_.store().put(event.name, *files, source, leaf->front().notAfter());
    if (!g) return wrap(describe() + ": store the set in the swarm", g.error());
    if (g->created)
      log::info("swarm_set_stored", {{"name", event.name}, {"generation", g->number}, {"source", event.source}});
    const TimePoint updatedAt = session_.clock().now();
    auto updated = pointServiceAt(event.name, *g);
    if (!updated) return std::unexpected(updated.error());
    Status rolled = *updated ? awaitRollout(event.name, *g, updatedAt) : Status{};
    session_.store().tidy(event.name, g->number);
    return rolled;
  } catch (const Poco::Exception& e) {  // a field of an unexpected type in the engine's reply
    return fail(describe() + ": the Docker engine's reply does not parse: " + e.displayText());
  }
}

Status SwarmPublisher::awaitRollout(const std::string& lineage, const Generation& g, TimePoint updatedAt) {
  // The managers' clocks may differ a little from ours: a rollout that started
  // just before our update by their clock is still ours.
  const auto ours = [&](const Service& s) { return s.updateStartedAt && *s.updateStartedAt >= updatedAt - std::chrono::seconds(5); };
  const auto deadline = updatedAt + kRolloutWait;
  const auto polls = kRolloutWait / std::max(target_.rolloutPoll, std::chrono::milliseconds(1));
  for (std::int64_t i = 0; i < polls && session_.clock().now() < deadline; ++i) {
    std::this_thread::sleep_for(target_.rolloutPoll);
    auto service = targetService();
    if (!service) return wrap(describe() + ": follow the rollout", service.error());
    if (!ours(*service)) continue;
    const auto& state = service->updateState;
    auto took = std::chrono::duration_cast<std::chrono::seconds>(session_.clock().now() - updatedAt);
    if (state == "completed") {
      log::info("swarm_rollout_done", {{"name", lineage}, {"service", service->name}, {"generation", g.number},
                                       {"seconds", static_cast<std::int64_t>(took.count())}});
      return {};
    }
    if (state.rfind("rollback", 0) == 0 || state == "paused")
      return fail(describe() + ": the rollout of generation " + std::to_string(g.number) + " ended " + state +
                  (service->updateMessage.empty() ? "" : ": " + service->updateMessage.substr(0, 300)));
  }
  log::warn("swarm_rollout_slow", {{"name", lineage}, {"generation", g.number},
                                   {"waited", static_cast<std::int64_t>(kRolloutWait.count())},
                                   {"effect", "swarm goes on with it; sidecert does not wait longer"}});
  return {};
}

}  // namespace sc::swarm
