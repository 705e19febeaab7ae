#include "log/log.h"

#include <memory>
#include <mutex>
#include <sstream>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Stringifier.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "core/clock.h"
#include "core/time_format.h"

namespace sc::log {
namespace {

struct State {
  LogFormat format = LogFormat::Text;
  LogLevel level = LogLevel::Info;
  std::shared_ptr<spdlog::logger> logger;
  std::function<void(const std::string&)> capture;
  std::mutex mutex;
};

State& state() {
  static State s;
  return s;
}

const char* levelName(LogLevel l) {
  switch (l) {
    case LogLevel::Debug: return "debug";
    case LogLevel::Info: return "info";
    case LogLevel::Warn: return "warn";
    case LogLevel::Error: return "error";
  }
  return "info";
}

spdlog::level::level_enum toSpd(LogLevel l) {
  switch (l) {
    case LogLevel::Debug: return spdlog::level::debug;
    case LogLevel::Info: return spdlog::level::info;
    case LogLevel::Warn: return spdlog::level::warn;
    case LogLevel::Error: return spdlog::level::err;
  }
  return spdlog::level::info;
}

bool needsQuotes(const std::string& v) {
  return v.empty() || v.find_first_of(" \"=\t\n\\") != std::string::npos;
}

std::string quoted(const std::string& v) {
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') { out += "\\n"; continue; }
    out += c;
  }
  return out + "\"";
}

std::string textValue(const Value& v) {
  if (auto s = std::get_if<std::string>(&v)) return needsQuotes(*s) ? quoted(*s) : *s;
  if (auto i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
  return std::get<bool>(v) ? "true" : "false";
}

std::shared_ptr<spdlog::logger> makeLogger() {
  auto logger = std::make_shared<spdlog::logger>("sidecert", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  logger->set_pattern("%v");  // the line is already formatted, in one of two shapes
  logger->flush_on(spdlog::level::trace);
  return logger;
}

}  // namespace

void setup(LogFormat format, LogLevel level) {
  auto& s = state();
  std::lock_guard lock(s.mutex);
  s.format = format;
  s.level = level;
  if (!s.logger) s.logger = makeLogger();
  s.logger->set_level(toSpd(level));
}

void captureForTests(std::function<void(const std::string&)> sink) {
  std::lock_guard lock(state().mutex);
  state().capture = std::move(sink);
}

std::string formatText(const std::string& ts, LogLevel level, std::string_view name, const Fields& fields) {
  std::string line = ts + " " + levelName(level) + (level == LogLevel::Info || level == LogLevel::Warn ? "  " : " ");
  line += name;
  for (const auto& f : fields) line += " " + f.key + "=" + textValue(f.value);
  return line;
}

std::string formatJson(const std::string& ts, LogLevel level, std::string_view name, const Fields& fields) {
  Poco::JSON::Object obj(Poco::JSON_PRESERVE_KEY_ORDER);
  obj.set("ts", ts);
  obj.set("level", std::string(levelName(level)));
  obj.set("event", std::string(name));
  for (const auto& f : fields) {
    if (auto s = std::get_if<std::string>(&f.value)) obj.set(f.key, *s);
    else if (auto i = std::get_if<std::int64_t>(&f.value)) obj.set(f.key, static_cast<Poco::Int64>(*i));
    else obj.set(f.key, std::get<bool>(f.value));
  }
  std::ostringstream out;
  Poco::JSON::Stringifier::condense(obj, out);
  return out.str();
}

void event(LogLevel level, std::string_view name, const Fields& fields) {
  auto& s = state();
  std::lock_guard lock(s.mutex);
  if (level < s.level) return;
  std::string ts = formatTimeMillis(wallClockNow());
  std::string line = s.format == LogFormat::Json ? formatJson(ts, level, name, fields)
                                                 : formatText(ts, level, name, fields);
  if (s.capture) {
    s.capture(line);
    return;
  }
  if (!s.logger) s.logger = makeLogger();
  s.logger->log(toSpd(level), line);
}

}  // namespace sc::log
