// Names from the stack (discovery), the views of each set (layout), webroot
// challenges, and the account-wide pace of new orders.
#include <algorithm>
#include <functional>

#include "config/value_parsing.h"
#include "core/domain.h"
#include "core/duration.h"

namespace sc::config {

namespace {

Status applyDiscover(Settings& s, const RawValue& v) {
  if (auto ok = needScalar(v); !ok) return ok;
  const std::string& text = scalar(v);
  if (text == "docker") s.discover.mode = DiscoverSettings::Mode::Docker;
  else if (text == "swarm") s.discover.mode = DiscoverSettings::Mode::Swarm;
  else if (text == "off" || text.empty()) s.discover.mode = DiscoverSettings::Mode::Off;
  else return fail("'" + text + "' is not a discovery mode (expected docker, swarm or off)");
  return {};
}

// "*", a name, an IP address, or "*.<name>": what a discovered name is held against.
Status applyDiscoverAllow(Settings& s, const RawValue& v) {
  s.discover.allow.clear();
  // An empty value is none given (compose's and a stack's ${VAR:-}), so a stack
  // file can pass it through with discovery off; with discovery on,
  // checkDiscovery says it is required.
  if (!v.isList && v.items.size() == 1 && v.items.front().find_first_not_of(" \t\n") == std::string::npos) return {};
  for (const auto& pattern : splitCommas(v)) {
    if (pattern == "*") {
      s.discover.allow.push_back(pattern);
      continue;
    }
    auto checked = validateCertificateName(pattern);
    if (!checked)
      return fail("'" + pattern + "' is not a domain pattern (example.org, *.example.org, or * for any name): " +
                  checked.error().message);
    s.discover.allow.push_back(*checked);
  }
  if (s.discover.allow.empty()) return fail("names no domain pattern (such as *.example.org,example.org, or *)");
  return {};
}

Status applyDiscoverDuration(std::chrono::seconds DiscoverSettings::*field, bool allowZero, Settings& s,
                             const RawValue& v) {
  auto d = durationOf(v, allowZero);
  if (!d) return std::unexpected(d.error());
  s.discover.*field = *d;
  return {};
}

Status applyLayout(Settings& s, const RawValue& v) {
  if (auto ok = needScalar(v); !ok) return ok;
  if (scalar(v) == "certbot") s.layout = Layout::Certbot;
  else if (scalar(v) == "nginx-proxy") s.layout = Layout::NginxProxy;
  else return fail("'" + scalar(v) + "' is not a layout (expected certbot or nginx-proxy)");
  return {};
}

Status applyWebroot(Settings& s, const RawValue& v) {
  if (auto ok = needScalar(v); !ok) return ok;
  const std::string& dir = scalar(v);
  if (!dir.empty() && dir.front() != '/') return fail("'" + dir + "' is not an absolute path");
  s.http01Webroot = dir;
  return {};
}

// COUNT/DURATION (300/3h), or "off": no limit of sidecert's own.
Result<RateLimit> rateLimitOf(const RawValue& v) {
  if (auto ok = needScalar(v); !ok) return std::unexpected(ok.error());
  const std::string& text = scalar(v);
  if (text == "off") return RateLimit{};
  auto rate = parseCountPer(text);
  if (!rate) return fail("'" + text + "' is not a rate (expected COUNT/DURATION, such as 300/3h, or off)");
  return RateLimit{rate->first, rate->second};
}

Status applyRateLimit(std::optional<RateLimit> Settings::*field, Settings& s, const RawValue& v) {
  auto limit = rateLimitOf(v);
  if (!limit) return std::unexpected(limit.error());
  s.*field = *limit;
  return {};
}

}  // namespace

const std::vector<Setting>& discoverSettings() {
  using namespace std::placeholders;
  static const std::vector<Setting> table = {
      {"discover", "SIDECERT_DISCOVER", applyDiscover},
      {"discover_allow", "SIDECERT_DISCOVER_ALLOW", applyDiscoverAllow},
      {"discover_grace", "SIDECERT_DISCOVER_GRACE",
       std::bind(applyDiscoverDuration, &DiscoverSettings::grace, true, _1, _2)},
      {"discover_settle", "SIDECERT_DISCOVER_SETTLE",
       std::bind(applyDiscoverDuration, &DiscoverSettings::settle, true, _1, _2)},
      {"discover_resync", "SIDECERT_DISCOVER_RESYNC",
       std::bind(applyDiscoverDuration, &DiscoverSettings::resync, false, _1, _2)},
      {"layout", "SIDECERT_LAYOUT", applyLayout},
      {"http01_webroot", "SIDECERT_HTTP01_WEBROOT", applyWebroot},
      {"account_order_limit", "SIDECERT_ACCOUNT_ORDER_LIMIT",
       std::bind(applyRateLimit, &Settings::accountOrderLimit, _1, _2)},
      {"validation_failure_limit", "SIDECERT_VALIDATION_FAILURE_LIMIT",
       std::bind(applyRateLimit, &Settings::validationFailureLimit, _1, _2)},
  };
  return table;
}

}  // namespace sc::config
