#include "swarm/api.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>
#include <Poco/URI.h>

#include <iterator>
#include <sstream>

#include "core/time_format.h"
#include "crypto/encoding.h"

namespace sc::swarm {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

std::string plural(Kind kind) { return kind == Kind::Secret ? "secrets" : "configs"; }
std::string singular(Kind kind) { return kind == Kind::Secret ? "secret" : "config"; }

template <typename T>
Result<T> parseAs(const std::string& body, const std::string& what) {
  try {
    auto value = Poco::JSON::Parser().parse(body);
    if (value.type() != typeid(T)) return fail(what + ": the engine's reply is not of the expected shape");
    auto out = value.extract<T>();
    if (!out) return fail(what + ": the engine's reply is empty");
    return out;
  } catch (const Poco::Exception& e) {
    return fail(what + ": the engine's reply does not parse: " + e.displayText());
  }
}

std::map<std::string, std::string> labelsOf(const Object::Ptr& holder) {
  std::map<std::string, std::string> out;
  auto labels = holder ? holder->getObject("Labels") : nullptr;
  if (!labels) return out;
  for (const auto& [k, v] : *labels)
    if (v.isString()) out[k] = v.extract<std::string>();
  return out;
}

std::string encodedJson(const Object& filters) {
  std::ostringstream json;
  filters.stringify(json);
  std::string query;
  Poco::URI::encode(json.str(), "=&+?#/:,[]{}\" ", query);
  return query;
}

std::string filterQuery(const std::map<std::string, std::string>& labels) {
  Object filters;
  Array list;
  for (const auto& [k, v] : labels) list.add(k + "=" + v);
  filters.set("label", list);
  return encodedJson(filters);
}

// Throws Poco's exceptions on a field of the wrong type.
Task taskFrom(const Object::Ptr& obj) {
  Task t;
  t.id = obj->optValue<std::string>("ID", "");
  t.nodeId = obj->optValue<std::string>("NodeID", "");
  if (auto status = obj->getObject("Status")) t.state = status->optValue<std::string>("State", "");
  auto attachments = obj->getArray("NetworksAttachments");
  for (std::size_t i = 0; attachments && i < attachments->size(); ++i) {
    auto attachment = attachments->getObject(i);
    auto network = attachment ? attachment->getObject("Network") : nullptr;
    auto addresses = attachment ? attachment->getArray("Addresses") : nullptr;
    if (!network || !addresses || addresses->size() == 0) continue;
    auto id = network->optValue<std::string>("ID", "");
    auto cidr = addresses->getElement<std::string>(0);
    if (!id.empty()) t.addresses[id] = cidr.substr(0, cidr.find('/'));
  }
  return t;
}

Result<Service> serviceFrom(const Object::Ptr& obj) {
  Service s;
  s.id = obj->optValue<std::string>("ID", "");
  auto version = obj->getObject("Version");
  s.spec = obj->getObject("Spec");
  if (s.id.empty() || !version || !s.spec) return fail("a service in the engine's reply lacks ID, Version or Spec");
  s.version = version->optValue<Poco::UInt64>("Index", 0);
  s.previousSpec = obj->getObject("PreviousSpec");
  s.name = s.spec->optValue<std::string>("Name", "");
  s.labels = labelsOf(s.spec);
  if (auto update = obj->getObject("UpdateStatus")) {
    s.updateState = update->optValue<std::string>("State", "");
    s.updateStartedAt = parseTime(update->optValue<std::string>("StartedAt", ""));
    s.updateMessage = update->optValue<std::string>("Message", "");
  }
  return s;
}

// A reply that is a list of objects, each parsed by `parseOne` (which may throw
// Poco's exceptions on a field of the wrong type).
template <typename T, typename Parse>
Result<std::vector<T>> parseList(const std::string& body, const std::string& what, Parse parseOne) {
  auto list = parseAs<Array::Ptr>(body, what);
  if (!list) return std::unexpected(list.error());
  std::vector<T> out;
  try {
    for (std::size_t i = 0; i < (*list)->size(); ++i) {
      auto obj = (*list)->getObject(i);
      if (!obj) return fail(what + ": an entry is not an object");
      Result<T> one = parseOne(obj);
      if (!one) return wrap(what, one.error());
      out.push_back(std::move(*one));
    }
  } catch (const Poco::Exception& e) {
    return fail(what + ": a field of an unexpected type: " + e.displayText());
  }
  return out;
}

}  // namespace

Result<net::EngineReply> SwarmApi::call(const std::string& method, const std::string& path, const std::string& body,
                                        const std::string& what) {
  auto r = engine_.call(method, path, body);
  if (!r) return wrap(what, r.error());
  if (r->status == 503)  // a worker, or a manager without a quorum
    return fail(what + ": " + net::engineError(*r) + " (the swarm API answers only on a manager with a quorum)");
  return r;
}

Result<std::vector<StoredObject>> SwarmApi::list(Kind kind, const std::map<std::string, std::string>& labels) {
  std::string what = "list the swarm's " + plural(kind);
  auto r = call("GET", "/" + plural(kind) + "?filters=" + filterQuery(labels), "", what);
  if (!r) return std::unexpected(r.error());
  if (r->status != 200) return fail(what + ": " + net::engineError(*r));
  auto list = parseAs<Array::Ptr>(r->body, what);
  if (!list) return std::unexpected(list.error());
  std::vector<StoredObject> out;
  try {
    for (std::size_t i = 0; i < (*list)->size(); ++i) {
      auto obj = (*list)->getObject(i);
      auto spec = obj ? obj->getObject("Spec") : nullptr;
      if (!spec) return fail(what + ": an entry lacks its Spec");
      StoredObject o;
      o.kind = kind;
      o.id = obj->optValue<std::string>("ID", "");
      o.name = spec->optValue<std::string>("Name", "");
      o.labels = labelsOf(spec);
      if (kind == Kind::Config && spec->has("Data")) {
        auto data = crypto::base64Decode(spec->getValue<std::string>("Data"));
        if (!data) return wrap(what + ": config " + o.name, data.error());
        o.data = std::move(*data);
      }
      bool matches = !o.id.empty();
      for (const auto& [k, v] : labels) matches = matches && o.label(k) == v;  // the filter, checked
      if (matches) out.push_back(std::move(o));
    }
  } catch (const Poco::Exception& e) {
    return fail(what + ": an entry of an unexpected type: " + e.displayText());
  }
  return out;
}

Result<std::string> SwarmApi::create(Kind kind, const std::string& name,
                                     const std::map<std::string, std::string>& labels, const std::string& data,
                                     bool* created) {
  std::string what = "create the " + singular(kind) + " " + name;
  Object spec, labelObj;
  for (const auto& [k, v] : labels) labelObj.set(k, v);
  spec.set("Name", name);
  spec.set("Labels", labelObj);
  spec.set("Data", crypto::base64(data));
  std::ostringstream body;
  spec.stringify(body);
  auto r = call("POST", "/" + plural(kind) + "/create", body.str(), what);
  if (!r) return std::unexpected(r.error());
  if (created) *created = r->status == 201;
  if (r->status == 409) {  // made before (a pass cut short): the same content, by its name
    auto found = list(kind, labels);
    if (!found) return std::unexpected(found.error());
    for (const auto& o : *found)
      if (o.name == name) return o.id;
    return fail(what + ": the name is taken by an object that is not sidecert's");
  }
  if (r->status != 201) return fail(what + ": " + net::engineError(*r));
  auto reply = parseAs<Object::Ptr>(r->body, what);
  if (!reply) return std::unexpected(reply.error());
  auto id = (*reply)->optValue<std::string>("ID", "");
  if (id.empty()) return fail(what + ": the engine's reply names no ID");
  return id;
}

Status SwarmApi::remove(Kind kind, const std::string& id) {
  std::string what = "remove " + singular(kind) + " " + id;
  auto r = call("DELETE", "/" + plural(kind) + "/" + net::pathSegment(id), "", what);
  if (!r) return std::unexpected(r.error());
  if (r->status == 204 || r->status == 200 || r->status == 404) return {};
  return fail(what + ": " + net::engineError(*r));
}

Result<Service> SwarmApi::service(const std::string& nameOrId) {
  std::string what = "inspect service " + nameOrId;
  auto r = call("GET", "/services/" + net::pathSegment(nameOrId), "", what);
  if (!r) return std::unexpected(r.error());
  if (r->status == 404) return failAs(ErrorKind::NotFound, "no swarm service named '" + nameOrId + "'");
  if (r->status != 200) return fail(what + ": " + net::engineError(*r));
  auto obj = parseAs<Object::Ptr>(r->body, what);
  if (!obj) return std::unexpected(obj.error());
  try {
    auto s = serviceFrom(*obj);
    if (!s) return wrap(what, s.error());
    return s;
  } catch (const Poco::Exception& e) {
    return fail(what + ": a field of an unexpected type: " + e.displayText());
  }
}

Result<std::vector<Service>> SwarmApi::services() {
  std::string what = "list the swarm's services";
  auto r = call("GET", "/services", "", what);
  if (!r) return std::unexpected(r.error());
  if (r->status != 200) return fail(what + ": " + net::engineError(*r));
  return parseList<Service>(r->body, what, serviceFrom);
}

Status SwarmApi::update(const Service& service, const Object& spec) {
  std::string what = "update service " + (service.name.empty() ? service.id : service.name);
  std::ostringstream body;
  spec.stringify(body);
  auto r = call("POST", "/services/" + net::pathSegment(service.id) + "/update?version=" + std::to_string(service.version),
                body.str(), what);
  if (!r) return std::unexpected(r.error());
  if (r->status == 200) return {};
  auto error = net::engineError(*r);
  if (error.find("out of sequence") != std::string::npos)
    return failAs(ErrorKind::Conflict, what + ": it changed since it was read (" + error + ")");
  return fail(what + ": " + error);
}

Result<bool> SwarmApi::edit(const std::string& nameOrId, const std::function<Result<bool>(Service&)>& change) {
  constexpr int kAttempts = 4;
  for (int attempt = 1;; ++attempt) {
    auto read = service(nameOrId);
    if (!read) return std::unexpected(read.error());
    auto changed = change(*read);
    if (!changed || !*changed) return changed;
    auto written = update(*read, *read->spec);
    if (written) return true;
    if (!written.error().is(ErrorKind::Conflict) || attempt == kAttempts) return std::unexpected(written.error());
  }
}

Result<bool> SwarmApi::taskEnded(const std::string& taskId) {
  auto t = task(taskId);
  if (!t && t.error().is(ErrorKind::NotFound)) return true;
  if (!t) return std::unexpected(t.error());
  return t->ended();
}

Result<Task> SwarmApi::task(const std::string& taskId) {
  std::string what = "inspect task " + taskId;
  auto r = call("GET", "/tasks/" + net::pathSegment(taskId), "", what);
  if (!r) return std::unexpected(r.error());
  if (r->status == 404) return failAs(ErrorKind::NotFound, "the swarm knows no task " + taskId);
  if (r->status != 200) return fail(what + ": " + net::engineError(*r));
  auto obj = parseAs<Object::Ptr>(r->body, what);
  if (!obj) return std::unexpected(obj.error());
  try {
    return taskFrom(*obj);
  } catch (const Poco::Exception& e) {
    return fail(what + ": a field of an unexpected type: " + e.displayText());
  }
}

Result<std::vector<Task>> SwarmApi::tasksOf(const std::string& service) {
  std::string what = "list the tasks of service " + service;
  Object filters;
  Array name, desired;
  name.add(service);
  desired.add(std::string("running"));
  filters.set("service", name);
  filters.set("desired-state", desired);
  auto r = call("GET", "/tasks?filters=" + encodedJson(filters), "", what);
  if (!r) return std::unexpected(r.error());
  if (r->status != 200) return fail(what + ": " + net::engineError(*r));
  return parseList<Task>(r->body, what, [](const Object::Ptr& obj) -> Result<Task> { return taskFrom(obj); });
}

std::optional<int> targetPort(const Service& service, int published) {
  try {
    auto endpoint = service.spec->getObject("EndpointSpec");
    auto ports = endpoint ? endpoint->getArray("Ports") : nullptr;
    for (std::size_t i = 0; ports && i < ports->size(); ++i) {
      auto port = ports->getObject(i);
      if (!port || port->optValue<std::string>("Protocol", "tcp") != "tcp") continue;
      int target = port->optValue<int>("TargetPort", 0);
      if (port->optValue<int>("PublishedPort", 0) == published && target > 0 && target < 65536) return target;
    }
  } catch (const Poco::Exception&) {
    // a spec of the wrong shape publishes nothing we can use
  }
  return std::nullopt;
}

Result<Identity> SwarmApi::identify(const std::string& containerId) {
  std::string what = "inspect sidecert's own container " + containerId;
  auto r = call("GET", "/containers/" + net::pathSegment(containerId) + "/json", "", what);
  if (!r) return std::unexpected(r.error());
  if (r->status != 200) return fail(what + ": " + net::engineError(*r));
  auto obj = parseAs<Object::Ptr>(r->body, what);
  if (!obj) return std::unexpected(obj.error());
  std::map<std::string, std::string> labels;
  try {
    labels = labelsOf((*obj)->getObject("Config"));
  } catch (const Poco::Exception& e) {
    return fail(what + ": labels of an unexpected type: " + e.displayText());
  }
  Identity id{labels["com.docker.swarm.service.id"], labels["com.docker.swarm.service.name"],
              labels["com.docker.swarm.task.id"], labels["com.docker.stack.namespace"]};
  if (id.serviceId.empty() || id.taskId.empty())
    return fail("sidecert does not run as a task of a swarm service (its container " + containerId +
                " has no com.docker.swarm labels): swarm mode needs `docker stack deploy` or `docker service create`");
  return id;
}

}  // namespace sc::swarm
