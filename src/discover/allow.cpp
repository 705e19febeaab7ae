#include "discover/allow.h"

#include "core/domain.h"

namespace sc::discover {

namespace {

bool endsWith(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

bool matches(const std::string& name, const std::string& pattern) {
  if (pattern == "*") return true;
  if (!isWildcard(pattern)) return name == pattern;
  if (isIpAddress(name)) return false;
  // "*.example.org" -> ".example.org": a whole label must come before it.
  std::string below = pattern.substr(1);
  return name.size() > below.size() && endsWith(name, below) && name[name.size() - below.size() - 1] != '.';
}

}  // namespace

std::optional<std::string> allowedBy(const std::string& name, const std::vector<std::string>& patterns) {
  for (const auto& p : patterns)
    if (matches(name, p)) return p;
  return std::nullopt;
}

}  // namespace sc::discover
