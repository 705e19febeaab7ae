#pragma once
// SIDECERT_DISCOVER_ALLOW: the names discovery may order for. Nothing outside it
// is ever ordered, whatever a container's labels say.
#include <optional>
#include <string>
#include <vector>

namespace sc::discover {

// The pattern that lets `name` be ordered, if any. Patterns: "*" (any name),
// "example.org" (that name), "*.example.org" (any name below example.org, at any
// depth, wildcards included), an IP address (that address).
std::optional<std::string> allowedBy(const std::string& name, const std::vector<std::string>& patterns);

}  // namespace sc::discover
