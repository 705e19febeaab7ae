#include "discover/registry.h"

#include <sstream>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "store/json_fields.h"
#include "store/state.h"

namespace sc::discover {
namespace {

// Bounds on what is read back: more than this was not written by sidecert.
constexpr std::size_t kMaxEntries = 20000;
constexpr std::size_t kMaxFieldBytes = 4096;
constexpr std::size_t kMaxValues = 16;

std::optional<Entry> entryFrom(const Poco::JSON::Object::Ptr& o) {
  using store::stringField;
  Entry e{stringField(o, "name", 64), {}, stringField(o, "origin", 512), {}, std::nullopt, std::nullopt};
  auto since = store::timeField(o, "since");
  if (e.name.empty() || !since || !o->isObject("values")) return std::nullopt;
  e.since = *since;
  e.goneSince = store::timeField(o, "gone_since");
  e.retiredAt = store::timeField(o, "retired_at");
  auto values = o->getObject("values");
  if (values->size() > kMaxValues) return std::nullopt;
  for (const auto& key : values->getNames()) {
    if (!values->isObject(key)) return std::nullopt;
    auto v = values->getObject(key);
    e.values[key] = {stringField(v, "text", kMaxFieldBytes), stringField(v, "label", 64)};
  }
  return e;
}

Poco::JSON::Object entryJson(const Entry& e) {
  Poco::JSON::Object o(Poco::JSON_PRESERVE_KEY_ORDER);
  o.set("name", e.name);
  o.set("origin", e.origin);
  o.set("since", formatTime(e.since));
  if (e.goneSince) o.set("gone_since", formatTime(*e.goneSince));
  if (e.retiredAt) o.set("retired_at", formatTime(*e.retiredAt));
  Poco::JSON::Object values(Poco::JSON_PRESERVE_KEY_ORDER);
  for (const auto& [key, v] : e.values) {
    Poco::JSON::Object one(Poco::JSON_PRESERVE_KEY_ORDER);
    one.set("text", v.text);
    one.set("label", v.label);
    values.set(key, one);
  }
  o.set("values", values);
  return o;
}

bool sameSettings(const std::map<std::string, DiscoveredValue>& a, const std::map<std::string, DiscoveredValue>& b) {
  if (a.size() != b.size()) return false;
  for (const auto& [key, v] : a) {
    auto it = b.find(key);
    if (it == b.end() || it->second.text != v.text) return false;
  }
  return true;
}

void wakeFor(Plan& plan, const Entry& e, std::chrono::seconds grace) {
  if (!e.goneSince || e.retiredAt) return;
  TimePoint end = *e.goneSince + grace;
  plan.wakeAt = std::min(plan.wakeAt.value_or(end), end);
}

// A retired lineage is still shown by `status` for a while; then forgotten (its
// files stay in the archive).
constexpr std::chrono::hours kForgetRetiredAfter{24 * 30};

void forgetLongRetired(Plan& plan, TimePoint now) {
  std::erase_if(plan.next, [&](const auto& kv) { return kv.second.retiredAt && now >= *kv.second.retiredAt + kForgetRetiredAfter; });
}

}  // namespace

Entries Registry::load() {
  Entries out;
  auto text = fs_.readFile(file_);
  if (!text) return out;
  try {
    auto v = Poco::JSON::Parser().parse(*text);
    if (v.type() != typeid(Poco::JSON::Object::Ptr)) return out;
    auto obj = v.extract<Poco::JSON::Object::Ptr>();
    if (!obj->isArray("lineages")) return out;
    auto list = obj->getArray("lineages");
    for (unsigned i = 0; i < list->size() && out.size() < kMaxEntries; ++i)
      if (list->isObject(i))
        if (auto e = entryFrom(list->getObject(i))) out[e->name] = std::move(*e);
  } catch (const Poco::Exception&) {
  }
  return out;
}

Status Registry::save(const Entries& entries) {
  Poco::JSON::Object obj(Poco::JSON_PRESERVE_KEY_ORDER);
  Poco::JSON::Array list;
  for (const auto& [name, e] : entries) list.add(entryJson(e));
  obj.set("lineages", list);
  std::ostringstream out;
  obj.stringify(out);
  return store::replaceFile(fs_, file_, out.str(), "remember the discovered lineages in " + file_.string());
}

Plan reconcile(const Desired& desired, const Entries& current, TimePoint now, std::chrono::seconds grace) {
  Plan plan;
  plan.next = current;
  for (const auto& [name, wanted] : desired.lineages) {
    auto it = plan.next.find(name);
    if (it == plan.next.end() || !it->second.active()) {
      plan.add.push_back(name);
      plan.next[name] = Entry{name, wanted.values, wanted.origin, now, std::nullopt, std::nullopt};
      continue;
    }
    Entry& e = it->second;
    if (!sameSettings(e.values, wanted.values)) {
      plan.change.push_back(name);
      e.values = wanted.values;
    } else if (e.goneSince) {
      plan.back.push_back(name);
    }
    e.goneSince.reset();
    e.origin = wanted.origin;
  }
  for (auto& [name, e] : plan.next) {
    if (!e.active() || desired.lineages.count(name) || desired.pending.count(name)) continue;
    if (!e.goneSince) {
      e.goneSince = now;
      plan.gone.push_back(name);
    }
    if (now >= *e.goneSince + grace) {
      e.retiredAt = now;
      plan.retire.push_back(name);
    }
    wakeFor(plan, e, grace);
  }
  forgetLongRetired(plan, now);
  return plan;
}

Plan expireGrace(const Entries& current, TimePoint now, std::chrono::seconds grace) {
  Plan plan;
  plan.next = current;
  for (auto& [name, e] : plan.next) {
    if (e.active() && e.goneSince && now >= *e.goneSince + grace) {
      e.retiredAt = now;
      plan.retire.push_back(name);
    }
    wakeFor(plan, e, grace);
  }
  forgetLongRetired(plan, now);
  return plan;
}

}  // namespace sc::discover
