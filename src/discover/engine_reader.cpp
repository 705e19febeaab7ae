#include "discover/engine_reader.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "core/time_format.h"

namespace sc::discover {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

// The environment variables discovery reads; the rest (secrets among them) is never kept.
bool readsVariable(const std::string& name) { return name == "LETSENCRYPT_HOST" || name == "LETSENCRYPT_EMAIL"; }

Result<Poco::Dynamic::Var> parsed(const net::EngineReply& reply, const std::string& call) {
  if (reply.status != 200) return fail("the Docker engine refused " + call + ": " + net::engineError(reply));
  try {
    return Poco::JSON::Parser().parse(reply.body);
  } catch (const Poco::Exception& e) {
    return fail("the Docker engine's answer to " + call + " is not JSON: " + e.displayText().substr(0, 200));
  }
}

std::string text(const Object::Ptr& o, const std::string& key) {
  if (!o || !o->has(key) || !o->get(key).isString()) return "";
  return o->get(key).extract<std::string>();
}

Object::Ptr object(const Object::Ptr& o, const std::string& key) { return o && o->isObject(key) ? o->getObject(key) : nullptr; }

// Labels as the engine gives them: an object of strings; a label too long or not
// a string makes the workload one that is skipped (a clear line), not half-read.
Result<std::map<std::string, std::string>> labelsOf(const Object::Ptr& labels) {
  std::map<std::string, std::string> out;
  if (!labels) return out;
  if (labels->size() > kMaxLabels) return fail("more than " + std::to_string(kMaxLabels) + " labels");
  for (const auto& key : labels->getNames()) {
    if (!labels->get(key).isString()) return fail("label " + key.substr(0, 100) + " is not text");
    std::string value = labels->get(key).extract<std::string>();
    if (key.size() > kMaxValueBytes || value.size() > kMaxValueBytes)
      return fail("label " + key.substr(0, 100) + " is longer than " + std::to_string(kMaxValueBytes) + " bytes");
    out[key] = value;
  }
  return out;
}

// "NAME=VALUE" items; only the ones discovery reads are kept.
std::map<std::string, std::string> envOf(const Array::Ptr& env) {
  std::map<std::string, std::string> out;
  if (!env) return out;
  for (unsigned i = 0; i < env->size() && i < 4096; ++i) {
    if (!env->get(i).isString()) continue;
    std::string item = env->get(i).extract<std::string>();
    auto eq = item.find('=');
    if (eq == std::string::npos || !readsVariable(item.substr(0, eq))) continue;
    if (item.size() - eq - 1 <= kMaxValueBytes) out[item.substr(0, eq)] = item.substr(eq + 1);
  }
  return out;
}

Result<Array::Ptr> arrayOf(const Poco::Dynamic::Var& v, const std::string& call) {
  if (v.type() != typeid(Array::Ptr)) return fail("the Docker engine's answer to " + call + " is not a list");
  return v.extract<Array::Ptr>();
}

// GET `path`: the engine's answer, which must be a JSON list.
Result<Array::Ptr> listAt(net::DockerEngine& engine, const std::string& path) {
  const std::string call = "GET " + path;
  auto reply = engine.call("GET", path, "");
  if (!reply) return std::unexpected(reply.error());
  auto v = parsed(*reply, call);
  if (!v) return std::unexpected(v.error());
  return arrayOf(*v, call);
}

bool plausibleId(const std::string& id) {
  return !id.empty() && id.size() <= 128 &&
         std::all_of(id.begin(), id.end(), [](unsigned char c) { return std::isalnum(c); });
}

}  // namespace

Result<Reading> EngineReader::readAll() {
  return mode_ == DiscoverSettings::Mode::Swarm ? readServices() : readContainers();
}

Result<EngineReader::Inspected> EngineReader::inspect(const std::string& id) {
  const std::string call = "GET /containers/" + id + "/json";
  auto reply = engine_.call("GET", "/containers/" + net::pathSegment(id) + "/json", "");
  if (!reply) return std::unexpected(reply.error());
  auto v = parsed(*reply, call);
  if (!v) return std::unexpected(v.error());
  if (v->type() != typeid(Object::Ptr)) return fail("the Docker engine's answer to " + call + " is not an object");
  auto o = v->extract<Object::Ptr>();
  auto config = object(o, "Config");
  Inspected out{envOf(config && config->isArray("Env") ? config->getArray("Env") : nullptr),
                parseTime(text(object(o, "State"), "StartedAt"))};
  return out;
}

Result<Reading> EngineReader::readContainers() {
  const std::string call = "GET /containers/json";
  auto list = listAt(engine_, "/containers/json");
  if (!list) return std::unexpected(list.error());
  Reading out;
  std::map<std::string, Inspected> stillRunning;
  for (unsigned i = 0; i < (*list)->size(); ++i) {
    if (out.workloads.size() >= kMaxWorkloads) {
      out.problems.push_back("more than " + std::to_string(kMaxWorkloads) + " containers: the rest are not read");
      break;
    }
    auto c = (*list)->getObject(i);
    Workload w;
    w.id = text(c, "Id");
    if (!c || !plausibleId(w.id)) {
      out.problems.push_back("a container without a valid Id in " + call + " is skipped");
      continue;
    }
    if (c->isArray("Names") && c->getArray("Names")->size() > 0 && c->getArray("Names")->get(0).isString())
      w.name = c->getArray("Names")->get(0).extract<std::string>().substr(0, 256);
    if (!w.name.empty() && w.name.front() == '/') w.name.erase(0, 1);
    w.running = text(c, "State") == "running";
    auto labels = labelsOf(object(c, "Labels"));
    if (!labels) {
      out.problems.push_back(w.describe() + " is skipped: " + labels.error().message);
      continue;
    }
    w.labels = std::move(*labels);
    if (!w.running) continue;
    auto known = inspected_.find(w.id);
    if (known == inspected_.end()) {
      auto got = inspect(w.id);
      if (!got) {  // gone between the list and the look, or the engine failed: next read
        out.problems.push_back(w.describe() + " is skipped this time: " + got.error().message);
        continue;
      }
      known = inspected_.emplace(w.id, std::move(*got)).first;
    }
    w.env = known->second.env;
    w.upSince = known->second.startedAt;
    stillRunning.insert(*known);
    out.workloads.push_back(std::move(w));
  }
  inspected_ = std::move(stillRunning);
  return out;
}

Result<Reading> EngineReader::readServices() {
  const std::string call = "GET /services";
  auto list = listAt(engine_, "/services");
  if (!list) return std::unexpected(list.error());
  Reading out;
  for (unsigned i = 0; i < (*list)->size(); ++i) {
    if (out.workloads.size() >= kMaxWorkloads) {
      out.problems.push_back("more than " + std::to_string(kMaxWorkloads) + " services: the rest are not read");
      break;
    }
    auto s = (*list)->getObject(i);
    Workload w;
    w.kind = Workload::Kind::Service;
    w.id = text(s, "ID");
    auto spec = object(s, "Spec");
    if (!s || !plausibleId(w.id) || !spec) {
      out.problems.push_back("a service without a valid ID or Spec in " + call + " is skipped");
      continue;
    }
    w.name = text(spec, "Name").substr(0, 256);
    auto container = object(object(spec, "TaskTemplate"), "ContainerSpec");
    // Deploy labels are the service's; plain labels in a stack file are its containers'.
    auto labels = labelsOf(object(spec, "Labels"));
    auto containerLabels = labelsOf(object(container, "Labels"));
    if (!labels || !containerLabels) {
      out.problems.push_back(w.describe() + " is skipped: " + (!labels ? labels : containerLabels).error().message);
      continue;
    }
    w.labels = std::move(*containerLabels);
    for (auto& [k, value] : *labels) w.labels[k] = value;
    w.env = envOf(container && container->isArray("Env") ? container->getArray("Env") : nullptr);
    w.running = true;
    w.upSince = parseTime(text(s, "UpdatedAt"));
    if (!w.upSince) w.upSince = parseTime(text(s, "CreatedAt"));
    out.workloads.push_back(std::move(w));
  }
  return out;
}

}  // namespace sc::discover
