#include "reload/docker_reloader.h"

#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>
#include <Poco/URI.h>

#include <sstream>
#include <vector>

namespace sc::reload {
namespace {

using Poco::JSON::Object;

constexpr int kStopTimeoutSeconds = 10;  // the gateway's grace before SIGKILL on restart

Object::Ptr parseObject(const std::string& body) {
  try {
    return Poco::JSON::Parser().parse(body).extract<Object::Ptr>();
  } catch (const Poco::Exception&) {
    return nullptr;
  }
}

// The engine's own words ({"message": "..."}) where it gave some.
std::string engineError(const EngineReply& r) {
  auto obj = parseObject(r.body);
  std::string message = obj ? obj->optValue<std::string>("message", "") : "";
  return "HTTP " + std::to_string(r.status) + (message.empty() ? "" : ": " + message);
}

// A name or ID as one path segment of an API URL: a hostname or a name from the
// settings with "/", "?" or "%" in it cannot reach another endpoint.
std::string segment(const std::string& s) {
  std::string out;
  Poco::URI::encode(s, "/?#%&=+ ", out);
  return out;
}

std::string quoted(const std::string& s) {
  std::ostringstream out;
  Poco::JSON::Stringifier::formatString(s, out);
  return out.str();
}

}  // namespace

DockerReloader::DockerReloader(DockerEngine& engine, Mode mode, std::string target, std::string selfId)
    : engine_(engine), mode_(mode), target_(std::move(target)), selfId_(std::move(selfId)) {}

std::string DockerReloader::describe() const {
  return (mode_ == Mode::RestartContainer ? "docker-restart:" : "docker-service:") + target_;
}

Status DockerReloader::reload(const ReloadEvent&) {
  try {
    return mode_ == Mode::RestartContainer ? restartContainers() : updateService();
  } catch (const Poco::Exception& e) {  // a field of an unexpected type in the engine's reply
    return fail(describe() + ": the Docker engine's reply does not parse: " + e.displayText());
  }
}

std::string DockerReloader::ownLabel(const std::string& label) {
  if (selfId_.empty()) return "";
  auto r = engine_.call("GET", "/containers/" + segment(selfId_) + "/json", "");
  if (!r || r->status != 200) return "";
  auto obj = parseObject(r->body);
  auto config = obj ? obj->getObject("Config") : nullptr;
  auto labels = config ? config->getObject("Labels") : nullptr;
  return labels ? labels->optValue<std::string>(label, "") : "";
}

Status DockerReloader::restartContainers() {
  std::vector<std::string> ids;
  if (auto project = ownLabel("com.docker.compose.project"); !project.empty()) {
    std::string filters = "{\"label\":[" + quoted("com.docker.compose.project=" + project) + "," +
                          quoted("com.docker.compose.service=" + target_) + "]}";
    std::string query;
    Poco::URI::encode(filters, "=&+?#/:,[]{}\"", query);
    auto r = engine_.call("GET", "/containers/json?filters=" + query, "");
    if (!r) return wrap("docker-restart: list the containers of service " + target_, r.error());
    if (r->status == 200) {
      try {
        auto list = Poco::JSON::Parser().parse(r->body).extract<Poco::JSON::Array::Ptr>();
        for (std::size_t i = 0; i < list->size(); ++i) ids.push_back(list->getObject(i)->getValue<std::string>("Id"));
      } catch (const Poco::Exception& e) {
        return fail("docker-restart: the engine's container list does not parse: " + e.displayText());
      }
    }
  }
  if (ids.empty()) ids.push_back(target_);
  for (const auto& id : ids) {
    auto r = engine_.call("POST", "/containers/" + segment(id) + "/restart?t=" + std::to_string(kStopTimeoutSeconds), "");
    if (!r) return wrap("docker-restart: restart " + target_, r.error());
    if (r->status == 404) return fail("docker-restart: no container or compose service named '" + target_ + "'");
    if (r->status != 204 && r->status != 200) return fail("docker-restart: restart " + target_ + ": " + engineError(*r));
  }
  return {};
}

Status DockerReloader::updateService() {
  std::vector<std::string> names;
  if (auto stack = ownLabel("com.docker.stack.namespace"); !stack.empty()) names.push_back(stack + "_" + target_);
  names.push_back(target_);
  for (const auto& name : names) {
    auto r = engine_.call("GET", "/services/" + segment(name), "");
    if (!r) return wrap("docker-service: inspect " + name, r.error());
    if (r->status == 404) continue;
    if (r->status != 200) return fail("docker-service: inspect " + name + ": " + engineError(*r));
    auto service = parseObject(r->body);
    auto spec = service ? service->getObject("Spec") : nullptr;
    auto version = service ? service->getObject("Version") : nullptr;
    auto task = spec ? spec->getObject("TaskTemplate") : nullptr;
    if (!spec || !version || !task) return fail("docker-service: the engine's description of " + name + " lacks Spec or Version");
    // What `docker service update --force` does: a new ForceUpdate value restarts the tasks.
    task->set("ForceUpdate", task->optValue<Poco::UInt64>("ForceUpdate", 0) + 1);
    std::ostringstream body;
    spec->stringify(body);
    auto id = service->optValue<std::string>("ID", name);
    auto index = std::to_string(version->optValue<Poco::UInt64>("Index", 0));
    auto u = engine_.call("POST", "/services/" + segment(id) + "/update?version=" + index, body.str());
    if (!u) return wrap("docker-service: update " + name, u.error());
    if (u->status != 200) return fail("docker-service: update " + name + ": " + engineError(*u));
    return {};
  }
  return fail("docker-service: no swarm service named '" + target_ + "'" +
              (names.size() > 1 ? " or '" + names.front() + "'" : ""));
}

}  // namespace sc::reload
