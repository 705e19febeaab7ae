#include "store/pace_file.h"

#include <cerrno>
#include <sstream>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "core/time_format.h"
#include "store/account_store.h"
#include "store/json_fields.h"
#include "store/state.h"

namespace sc::store {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

// Bounds on what is read: a hostile or runaway file cannot grow memory without end.
constexpr std::size_t kMaxTimes = 100000;  // orders, failures per name
constexpr std::size_t kMaxNames = 10000;   // hostnames with failures, waiting lineages

// Times from an array; an entry that is no time counts as `now` (and is reported).
std::vector<TimePoint> timesFrom(const Object::Ptr& o, const std::string& key, TimePoint now, std::size_t& bad) {
  std::vector<TimePoint> out;
  if (!o->has(key)) return out;
  if (!o->isArray(key)) {
    ++bad;
    return out;
  }
  auto arr = o->getArray(key);
  for (unsigned i = 0; i < arr->size() && out.size() < kMaxTimes; ++i) {
    auto t = arr->get(i).isString() ? parseTime(arr->get(i).extract<std::string>()) : std::nullopt;
    if (!t) ++bad;
    out.push_back(t.value_or(now));
  }
  return out;
}

Array timesJson(const std::vector<TimePoint>& times) {
  Array a;
  for (auto t : times) a.add(formatTime(t));
  return a;
}

// Read as written, counting the entries that were not.
renew::PaceRecord recordFrom(const Object::Ptr& obj, TimePoint now, std::size_t& bad) {
  renew::PaceRecord r;
  r.orders = timesFrom(obj, "orders", now, bad);
  if (obj->has("hold_until") && !(r.holdUntil = timeField(obj, "hold_until"))) ++bad;
  r.holdReason = stringField(obj, "hold_reason", 500);
  if (obj->isObject("failed_validations")) {
    auto failures = obj->getObject("failed_validations");
    for (const auto& [name, _] : *failures)
      if (r.failedValidations.size() < kMaxNames && name.size() <= 253)
        r.failedValidations[name] = timesFrom(failures, name, now, bad);
  }
  if (obj->isObject("waiting")) {
    auto waiting = obj->getObject("waiting");
    for (const auto& [name, _] : *waiting)
      if (auto at = timeField(waiting, name); at && r.waiting.size() < kMaxNames && name.size() <= 255)
        r.waiting[name] = *at;
  }
  return r;
}

// As if the window were full at `now`: no order until a whole window has passed.
renew::PaceRecord assumedFull(const renew::PaceLimits& limits, TimePoint now) {
  renew::PaceRecord r;
  if (limits.orders.on()) r.orders.assign(static_cast<std::size_t>(limits.orders.count), now);
  return r;
}

}  // namespace

PaceFile::PaceFile(FileSystem& fs, Path stateDir, const std::string& directoryUrl)
    : fs_(fs), file_(stateDir / ("pace-" + AccountStore::folderFor(directoryUrl) + ".json")) {}

PaceReading PaceFile::load(const renew::PaceLimits& limits, TimePoint now) {
  auto text = fs_.readFile(file_);
  if (!text && text.error().code == ENOENT) return {};
  const std::string assumed = "; read as if " + std::to_string(limits.orders.count) +
                              " orders had been placed just now, so none is placed before a whole window has passed";
  if (!text) return {assumedFull(limits, now), "cannot read " + file_.string() + ": " + text.error().message + assumed};
  try {
    auto v = Poco::JSON::Parser().parse(*text);
    if (v.type() != typeid(Object::Ptr))
      return {assumedFull(limits, now), file_.string() + " is not a JSON object" + assumed};
    auto obj = v.extract<Object::Ptr>();
    if (obj->has("orders") && !obj->isArray("orders"))
      return {assumedFull(limits, now), file_.string() + ": orders is not a list" + assumed};
    std::size_t bad = 0;
    PaceReading reading{recordFrom(obj, now, bad), ""};
    if (bad > 0)
      reading.problem = file_.string() + ": " + std::to_string(bad) +
                        " entries were not times; each counts as an order, or failure, just now";
    return reading;
  } catch (const Poco::Exception& e) {
    return {assumedFull(limits, now), file_.string() + " is not JSON (" + e.displayText() + ")" + assumed};
  }
}

Status PaceFile::save(const renew::PaceRecord& record) {
  Object obj(Poco::JSON_PRESERVE_KEY_ORDER);
  obj.set("orders", timesJson(record.orders));
  if (record.holdUntil) {
    obj.set("hold_until", formatTime(*record.holdUntil));
    obj.set("hold_reason", record.holdReason);
  }
  Object failures(Poco::JSON_PRESERVE_KEY_ORDER);
  for (const auto& [name, times] : record.failedValidations) failures.set(name, timesJson(times));
  obj.set("failed_validations", failures);
  Object waiting(Poco::JSON_PRESERVE_KEY_ORDER);
  for (const auto& [name, at] : record.waiting) waiting.set(name, formatTime(at));
  obj.set("waiting", waiting);
  std::ostringstream out;
  obj.stringify(out);
  return replaceFile(fs_, file_, out.str(), "save the account pace");
}

}  // namespace sc::store
