#pragma once
// Every decision is one event on one line of stderr: `text` for people, `json`
// (ts, level, event, fields) for log monitoring. Fields carry names, serials and
// reasons, never key material, JWS bodies or secrets.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/log_options.h"

namespace sc::log {

using Value = std::variant<std::string, std::int64_t, bool>;
struct Field {
  std::string key;
  Value value;
  Field(std::string k, std::string v) : key(std::move(k)), value(std::move(v)) {}
  Field(std::string k, const char* v) : key(std::move(k)), value(std::string(v)) {}
  Field(std::string k, std::int64_t v) : key(std::move(k)), value(v) {}
  Field(std::string k, int v) : key(std::move(k)), value(std::int64_t{v}) {}
  Field(std::string k, bool v) : key(std::move(k)), value(v) {}
};
using Fields = std::vector<Field>;

void setup(LogFormat format, LogLevel level);
// Tests see the formatted lines instead of stderr.
void captureForTests(std::function<void(const std::string&)> sink);

void event(LogLevel level, std::string_view name, const Fields& fields = {});
inline void debug(std::string_view n, const Fields& f = {}) { event(LogLevel::Debug, n, f); }
inline void info(std::string_view n, const Fields& f = {}) { event(LogLevel::Info, n, f); }
inline void warn(std::string_view n, const Fields& f = {}) { event(LogLevel::Warn, n, f); }
inline void error(std::string_view n, const Fields& f = {}) { event(LogLevel::Error, n, f); }

// Exposed for tests of the two formats.
std::string formatText(const std::string& ts, LogLevel level, std::string_view name, const Fields& fields);
std::string formatJson(const std::string& ts, LogLevel level, std::string_view name, const Fields& fields);

}  // namespace sc::log
