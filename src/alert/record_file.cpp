#include "alert/record_file.h"

#include <sstream>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "core/time_format.h"
#include "store/json_fields.h"
#include "store/state.h"

namespace sc::alert {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

constexpr std::size_t kMaxRecords = 1000;
constexpr std::size_t kMaxText = 4096;

std::string text(const Object::Ptr& o, const std::string& key) { return store::stringField(o, key, kMaxText); }

std::optional<Record> recordFrom(const Object::Ptr& o) {
  auto condition = conditionFrom(text(o, "condition"));
  auto since = store::timeField(o, "since");
  if (!condition || !since || text(o, "lineage").empty()) return std::nullopt;
  Record r{text(o, "lineage"), *condition, *since, {}, true, store::timeField(o, "cleared_at"), {}};
  r.active = !(o->has("active") && o->get("active").isBoolean() && !o->get("active").extract<bool>());
  r.latest.condition = *condition;
  r.latest.severity = text(o, "severity") == "critical" ? Severity::Critical : Severity::Warning;
  if (o->has("fire_after_seconds") && o->get("fire_after_seconds").isInteger())
    r.latest.fireAfter = std::chrono::seconds(
        std::clamp<Poco::Int64>(o->get("fire_after_seconds").convert<Poco::Int64>(), 0, 10LL * 365 * 86400));
  r.latest.summary = text(o, "summary");
  r.latest.lastError = text(o, "last_error");
  r.latest.advice = text(o, "advice");
  if (o->isObject("notified")) {
    auto told = o->getObject("notified");
    for (const auto& [channel, _] : *told)
      if (auto at = store::timeField(told, channel)) r.notified[channel] = *at;
  }
  return r;
}

Object recordJson(const Record& r) {
  Object o(Poco::JSON_PRESERVE_KEY_ORDER);
  o.set("lineage", r.lineage);
  o.set("condition", conditionName(r.condition));
  o.set("since", formatTime(r.since));
  o.set("active", r.active);
  if (r.clearedAt) o.set("cleared_at", formatTime(*r.clearedAt));
  o.set("severity", severityName(r.latest.severity));
  o.set("fire_after_seconds", static_cast<Poco::Int64>(r.latest.fireAfter.count()));
  o.set("summary", r.latest.summary);
  o.set("last_error", r.latest.lastError);
  o.set("advice", r.latest.advice);
  Object told(Poco::JSON_PRESERVE_KEY_ORDER);
  for (const auto& [channel, at] : r.notified) told.set(channel, formatTime(at));
  o.set("notified", told);
  return o;
}

}  // namespace

std::vector<Record> RecordFile::load() {
  std::vector<Record> out;
  auto data = fs_.readFile(file_);
  if (!data) return out;
  try {
    auto v = Poco::JSON::Parser().parse(*data);
    if (v.type() != typeid(Object::Ptr)) return out;
    auto root = v.extract<Object::Ptr>();
    if (!root->isArray("records")) return out;
    auto list = root->getArray("records");
    for (unsigned i = 0; i < list->size() && out.size() < kMaxRecords; ++i)
      if (list->isObject(i))
        if (auto r = recordFrom(list->getObject(i))) out.push_back(std::move(*r));
  } catch (const Poco::Exception&) {
  }
  return out;
}

Status RecordFile::save(const std::vector<Record>& records) {
  Object root(Poco::JSON_PRESERVE_KEY_ORDER);
  Array list;
  for (const auto& r : records) list.add(recordJson(r));
  root.set("records", list);
  std::ostringstream out;
  root.stringify(out);
  return store::replaceFile(fs_, file_, out.str(), "save alert records");
}

}  // namespace sc::alert
