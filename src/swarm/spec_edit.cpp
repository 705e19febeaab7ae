#include "swarm/spec_edit.h"

#include <Poco/JSON/Array.h>

#include <algorithm>
#include <tuple>

namespace sc::swarm {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

const char* listKey(Kind kind) { return kind == Kind::Secret ? "Secrets" : "Configs"; }
const char* nameKey(Kind kind) { return kind == Kind::Secret ? "SecretName" : "ConfigName"; }
const char* idKey(Kind kind) { return kind == Kind::Secret ? "SecretID" : "ConfigID"; }

Object::Ptr child(Object& parent, const std::string& key) {
  auto obj = parent.getObject(key);
  if (!obj) {
    obj = new Object;
    parent.set(key, obj);
  }
  return obj;
}

std::string targetOf(const Object::Ptr& entry) {
  auto file = entry ? entry->getObject("File") : nullptr;
  return file ? file->optValue<std::string>("Name", "") : "";
}

using Key = std::tuple<int, std::string, std::string>;  // kind, name, target

Object::Ptr entryFor(const Mount& m) {
  Object::Ptr file = new Object;
  file->set("Name", m.target);
  file->set("UID", std::to_string(m.uid));
  file->set("GID", std::to_string(m.gid));
  file->set("Mode", m.mode);
  Object::Ptr entry = new Object;
  entry->set("File", file);
  entry->set(idKey(m.kind), m.id);
  entry->set(nameKey(m.kind), m.name);
  return entry;
}

}  // namespace

bool mountInto(Object& spec, const std::string& prefix, const std::vector<Mount>& mounts) {
  auto container = child(*child(spec, "TaskTemplate"), "ContainerSpec");
  std::set<std::string> targets;
  for (const auto& m : mounts) targets.insert(m.target);
  std::set<Key> before, after;
  for (const auto& m : mounts) after.emplace(static_cast<int>(m.kind), m.name, m.target);
  std::vector<std::pair<Kind, Array::Ptr>> kept;
  for (Kind kind : {Kind::Secret, Kind::Config}) {
    Array::Ptr fresh = new Array;
    auto list = container->getArray(listKey(kind));
    for (std::size_t i = 0; list && i < list->size(); ++i) {
      auto entry = list->getObject(i);
      if (!entry) continue;
      auto name = entry->optValue<std::string>(nameKey(kind), "");
      auto target = targetOf(entry);
      if (name.rfind(prefix, 0) == 0 || targets.count(target)) {
        before.emplace(static_cast<int>(kind), name, target);
        continue;
      }
      fresh->add(entry);
    }
    kept.emplace_back(kind, fresh);
  }
  if (before == after) return false;
  for (auto& [kind, list] : kept) {
    for (const auto& m : mounts)
      if (m.kind == kind) list->add(entryFor(m));
    container->set(listKey(kind), list);
  }
  return true;
}

std::set<std::string> namesIn(const Object::Ptr& spec) {
  std::set<std::string> out;
  auto task = spec ? spec->getObject("TaskTemplate") : nullptr;
  auto container = task ? task->getObject("ContainerSpec") : nullptr;
  if (!container) return out;
  for (Kind kind : {Kind::Secret, Kind::Config}) {
    auto list = container->getArray(listKey(kind));
    for (std::size_t i = 0; list && i < list->size(); ++i)
      if (auto entry = list->getObject(i)) out.insert(entry->optValue<std::string>(nameKey(kind), ""));
  }
  return out;
}

void setLabel(Object& spec, const std::string& key, const std::string& value) { child(spec, "Labels")->set(key, value); }

std::vector<StoredObject> obsolete(const std::vector<StoredObject>& ours, const std::set<std::string>& referenced,
                                   int newestGeneration) {
  std::vector<StoredObject> out;
  for (const auto& o : ours) {
    bool newest = o.generation() == newestGeneration;
    bool keep = o.label(kLabelRole) == kRoleSet ? newest : newest || referenced.count(o.name) > 0;
    if (!keep) out.push_back(o);
  }
  return out;
}

}  // namespace sc::swarm
