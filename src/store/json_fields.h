#pragma once
// Fields of a JSON file sidecert keeps (state, alert records), read defensively:
// one of the wrong type is absent, a time out of range is no time.
#include <optional>
#include <string>

#include <Poco/JSON/Object.h>

#include "core/time_format.h"

namespace sc::store {

inline std::optional<TimePoint> timeField(const Poco::JSON::Object::Ptr& o, const std::string& key) {
  if (!o->has(key) || !o->get(key).isString()) return std::nullopt;
  return parseTime(o->get(key).extract<std::string>());
}

// "" when absent or not a string; cut at maxBytes.
inline std::string stringField(const Poco::JSON::Object::Ptr& o, const std::string& key,
                               std::size_t maxBytes = std::string::npos) {
  if (!o->has(key) || !o->get(key).isString()) return "";
  return o->get(key).extract<std::string>().substr(0, maxBytes);
}

}  // namespace sc::store
