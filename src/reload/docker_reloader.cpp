#include "reload/docker_reloader.h"

#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>
#include <Poco/URI.h>

#include <chrono>
#include <sstream>
#include <thread>
#include <vector>

namespace sc::reload {
namespace {

using Poco::JSON::Object;

constexpr int kStopTimeoutSeconds = 10;  // the gateway's grace before SIGKILL on restart
// An exec's exit code may lag its closed output stream by a moment.
constexpr int kExitCodePolls = 50;
constexpr auto kExitCodePollEvery = std::chrono::milliseconds(100);

Object::Ptr parseObject(const std::string& body) {
  try {
    return Poco::JSON::Parser().parse(body).extract<Object::Ptr>();
  } catch (const Poco::Exception&) {
    return nullptr;
  }
}

std::string quoted(const std::string& s) {
  std::ostringstream out;
  Poco::JSON::Stringifier::formatString(s, out);
  return out.str();
}

// What an exec printed: the engine multiplexes stdout and stderr into frames of an
// 8-byte header (stream, 0, 0, 0, big-endian length) and the bytes; a cut-off
// frame keeps what arrived.
std::string demultiplexed(const std::string& stream) {
  std::string out;
  std::size_t at = 0;
  while (at + 8 <= stream.size()) {
    std::size_t length = 0;
    for (int i = 4; i < 8; ++i) length = length << 8 | static_cast<unsigned char>(stream[at + i]);
    out += stream.substr(at + 8, length);
    at += 8 + length;
  }
  return out;
}

std::string lastLine(const std::string& text) {
  auto end = text.find_last_not_of('\n');
  if (end == std::string::npos) return "";
  auto begin = text.rfind('\n', end);
  begin = begin == std::string::npos ? 0 : begin + 1;
  return text.substr(begin, end - begin + 1);
}

}  // namespace

DockerReloader::DockerReloader(DockerEngine& engine, Mode mode, std::string target, std::string selfId,
                               std::vector<std::string> argv)
    : engine_(engine), mode_(mode), target_(std::move(target)), selfId_(std::move(selfId)), argv_(std::move(argv)) {}

std::string DockerReloader::describe() const {
  switch (mode_) {
    case Mode::RestartContainer: return "docker-restart:" + target_;
    case Mode::UpdateService: return "docker-service:" + target_;
    case Mode::Exec: break;
  }
  std::string out = "docker-exec:" + target_ + ":";
  for (std::size_t i = 0; i < argv_.size(); ++i) out += (i ? " " : "") + argv_[i];
  return out;
}

Status DockerReloader::reload(const ReloadEvent&) {
  try {
    if (mode_ == Mode::UpdateService) return updateService();
    if (mode_ == Mode::RestartContainer) return restartContainers();
    auto ids = composeContainers();
    if (!ids) return std::unexpected(ids.error());
    for (const auto& id : *ids)
      if (auto ok = execIn(id); !ok) return ok;
    return {};
  } catch (const Poco::Exception& e) {  // a field of an unexpected type in the engine's reply
    return fail(describe() + ": the Docker engine's reply does not parse: " + e.displayText());
  }
}

std::string DockerReloader::ownLabel(const std::string& label) {
  if (selfId_.empty()) return "";
  auto r = engine_.call("GET", "/containers/" + net::pathSegment(selfId_) + "/json", "");
  if (!r || r->status != 200) return "";
  auto obj = parseObject(r->body);
  auto config = obj ? obj->getObject("Config") : nullptr;
  auto labels = config ? config->getObject("Labels") : nullptr;
  return labels ? labels->optValue<std::string>(label, "") : "";
}

// The containers of the service of that name in sidecert's own compose project;
// else the container of that name.
Result<std::vector<std::string>> DockerReloader::composeContainers() {
  std::vector<std::string> ids;
  std::string verb = mode_ == Mode::Exec ? "docker-exec" : "docker-restart";
  if (auto project = ownLabel("com.docker.compose.project"); !project.empty()) {
    std::string filters = "{\"label\":[" + quoted("com.docker.compose.project=" + project) + "," +
                          quoted("com.docker.compose.service=" + target_) + "]}";
    std::string query;
    Poco::URI::encode(filters, "=&+?#/:,[]{}\"", query);
    auto r = engine_.call("GET", "/containers/json?filters=" + query, "");
    if (!r) return wrap(verb + ": list the containers of service " + target_, r.error());
    if (r->status == 200) {
      try {
        auto list = Poco::JSON::Parser().parse(r->body).extract<Poco::JSON::Array::Ptr>();
        for (std::size_t i = 0; i < list->size(); ++i) ids.push_back(list->getObject(i)->getValue<std::string>("Id"));
      } catch (const Poco::Exception& e) {
        return fail(verb + ": the engine's container list does not parse: " + e.displayText());
      }
    }
  }
  if (ids.empty()) ids.push_back(target_);
  return ids;
}

Status DockerReloader::restartContainers() {
  auto ids = composeContainers();
  if (!ids) return std::unexpected(ids.error());
  for (const auto& id : *ids) {
    auto r = engine_.call("POST", "/containers/" + net::pathSegment(id) + "/restart?t=" + std::to_string(kStopTimeoutSeconds), "");
    if (!r) return wrap("docker-restart: restart " + target_, r.error());
    if (r->status == 404) return fail("docker-restart: no container or compose service named '" + target_ + "'");
    if (r->status != 204 && r->status != 200) return fail("docker-restart: restart " + target_ + ": " + net::engineError(*r));
  }
  return {};
}

Result<std::string> DockerReloader::createExec(const std::string& container) {
  Object create;
  Poco::JSON::Array cmd;
  for (const auto& a : argv_) cmd.add(a);
  create.set("AttachStdout", true);
  create.set("AttachStderr", true);
  create.set("Cmd", cmd);
  std::ostringstream body;
  create.stringify(body);
  auto made = engine_.call("POST", "/containers/" + net::pathSegment(container) + "/exec", body.str());
  if (!made) return wrap(describe() + ": create the exec", made.error());
  if (made->status == 404) return fail("docker-exec: no container or compose service named '" + target_ + "'");
  if (made->status != 201) return fail(describe() + ": create the exec: " + net::engineError(*made));
  auto exec = parseObject(made->body);
  std::string id = exec ? exec->optValue<std::string>("Id", "") : "";
  if (id.empty()) return fail(describe() + ": the engine's reply names no exec: " + made->body.substr(0, 200));
  return id;
}

Result<int> DockerReloader::exitCodeOf(const std::string& execId) {
  for (int poll = 0; poll < kExitCodePolls; ++poll) {
    auto r = engine_.call("GET", "/exec/" + net::pathSegment(execId) + "/json", "");
    if (!r) return wrap(describe() + ": ask for the exit status", r.error());
    auto state = r->status == 200 ? parseObject(r->body) : nullptr;
    if (!state) return fail(describe() + ": ask for the exit status: " + net::engineError(*r));
    if (!state->optValue<bool>("Running", false) && state->has("ExitCode") && !state->isNull("ExitCode"))
      return state->getValue<int>("ExitCode");
    std::this_thread::sleep_for(kExitCodePollEvery);
  }
  return fail(describe() + ": still running after its output ended; its exit status is unknown");
}

Status DockerReloader::execIn(const std::string& container) {
  auto id = createExec(container);
  if (!id) return std::unexpected(id.error());
  // Not detached: the reply is the program's output, and ends when it exits.
  auto started = engine_.call("POST", "/exec/" + net::pathSegment(*id) + "/start", R"({"Detach":false,"Tty":false})");
  if (!started) return wrap(describe() + ": start the exec", started.error());
  if (started->status != 200) return fail(describe() + ": start the exec: " + net::engineError(*started));
  std::string output = demultiplexed(started->body);
  logReloadOutput(argv_.front(), output);
  auto code = exitCodeOf(*id);
  if (!code) return std::unexpected(code.error());
  if (*code == 0) return {};
  return fail(describe() + ": exited with status " + std::to_string(*code) +
              (output.empty() ? "" : ": " + lastLine(output).substr(0, 300)));
}

Status DockerReloader::updateService() {
  std::vector<std::string> names;
  if (auto stack = ownLabel("com.docker.stack.namespace"); !stack.empty()) names.push_back(stack + "_" + target_);
  names.push_back(target_);
  for (const auto& name : names) {
    auto r = engine_.call("GET", "/services/" + net::pathSegment(name), "");
    if (!r) return wrap("docker-service: inspect " + name, r.error());
    if (r->status == 404) continue;
    if (r->status != 200) return fail("docker-service: inspect " + name + ": " + net::engineError(*r));
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
    auto u = engine_.call("POST", "/services/" + net::pathSegment(id) + "/update?version=" + index, body.str());
    if (!u) return wrap("docker-service: update " + name, u.error());
    if (u->status != 200) return fail("docker-service: update " + name + ": " + net::engineError(*u));
    return {};
  }
  return fail("docker-service: no swarm service named '" + target_ + "'" +
              (names.size() > 1 ? " or '" + names.front() + "'" : ""));
}

}  // namespace sc::reload
