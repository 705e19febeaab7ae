#include "config/setting_values.h"

#include <arpa/inet.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <set>
#include <tuple>
#include <sstream>

#include <Poco/Exception.h>
#include <Poco/URI.h>
#include <yaml-cpp/yaml.h>

#include "config/load.h"
#include "config/value_parsing.h"
#include "config/reload_spec.h"
#include "core/domain.h"
#include "core/duration.h"

namespace sc::config {

namespace {

Status applyDomains(Settings& s, const RawValue& v) {
  s.domains.clear();
  for (const auto& d : splitCommas(v)) {
    auto ok = validateCertificateName(d);
    if (!ok) return std::unexpected(ok.error());
    if (std::find(s.domains.begin(), s.domains.end(), *ok) == s.domains.end()) s.domains.push_back(*ok);
  }
  if (s.domains.empty()) return fail("lists no domain name");
  return {};
}

Status applyEmail(Settings& s, const RawValue& v) {
  if (auto ok = needScalar(v); !ok) return ok;
  const std::string& e = scalar(v);
  if (!e.empty() && !isEmailAddress(e)) return fail("'" + e + "' is not an email address (LOCAL@DOMAIN)");
  s.email = e;
  return {};
}

}  // namespace

Status checkName(const std::string& n) {

  bool safe = !n.empty() && n.size() <= 64 && n.front() != '.' &&
              std::all_of(n.begin(), n.end(), [](unsigned char c) { return std::isalnum(c) || c == '.' || c == '-' || c == '_'; });
  if (!safe) return fail("'" + n + "' is not a usable folder name (letters, digits, '.', '-', '_'; at most 64)");
  return {};
}

namespace {

Status applyName(Settings& s, const RawValue& v) {
  if (auto ok = needScalar(v); !ok) return ok;
  if (auto ok = checkName(scalar(v)); !ok) return ok;
  s.name = scalar(v);
  return {};
}

Status applyStateDir(Settings& s, const RawValue& v) {
  if (auto ok = needScalar(v); !ok) return ok;
  if (scalar(v).empty() || scalar(v).front() != '/') return fail("'" + scalar(v) + "' is not an absolute path");
  s.stateDir = std::filesystem::path(scalar(v)).lexically_normal();
  return {};
}

Status applyVolume(Settings& s, const RawValue& v) {
  if (auto ok = needScalar(v); !ok) return ok;
  if (scalar(v).empty()) return fail("is empty");
  s.volume = scalar(v);
  return {};
}

std::string expandDirectory(const std::string& d) {
  if (d == "letsencrypt") return "https://acme-v02.api.letsencrypt.org/directory";
  if (d == "letsencrypt-staging") return "https://acme-staging-v02.api.letsencrypt.org/directory";
  if (d == "zerossl") return "https://acme.zerossl.com/v2/DV90";
  return d;
}

Status applyDirectory(Settings& s, const RawValue& v) {
  s.acmeDirectories.clear();
  auto parts = splitCommas(v);
  if (parts.size() == 1 && parts[0] == "none") return {};
  if (parts.empty()) return fail("is empty (use none to turn ACME off)");
  for (const auto& p : parts) {
    std::string url = expandDirectory(p);
    if (!isHttpsUrl(url))
      return fail("'" + p + "' is not an https:// URL nor one of letsencrypt, letsencrypt-staging, zerossl, none");
    s.acmeDirectories.push_back(url);
  }
  return {};
}

Status applyString(std::string Settings::*field, Settings& s, const RawValue& v) {
  if (auto ok = needScalar(v); !ok) return ok;
  s.*field = scalar(v);
  return {};
}

Status applyCaBundle(Settings& s, const RawValue& v) {
  auto path = readablePath(v);
  if (!path) return std::unexpected(path.error());
  s.acmeCaBundle = *path;
  return {};
}

Status applyKeyType(Settings& s, const RawValue& v) {
  if (auto ok = needScalar(v); !ok) return ok;
  auto t = parseKeyType(scalar(v));
  if (!t) return fail("unknown key type '" + scalar(v) + "' (expected ec256, ec384, rsa2048, rsa3072 or rsa4096)");
  s.keyType = *t;
  return {};
}

Result<Listen> parseListen(const RawValue& v) {
  if (auto ok = needScalar(v); !ok) return std::unexpected(ok.error());
  const std::string& text = scalar(v);
  auto colon = text.rfind(':');
  if (colon == std::string::npos) return fail("'" + text + "' is not ADDRESS:PORT (e.g. :80, 127.0.0.1:5002, [::]:80)");
  std::string host = text.substr(0, colon), port = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  else if (host.find(':') != std::string::npos) return fail("'" + text + "': write an IPv6 address in brackets, e.g. [::1]:80");
  bool digits = !port.empty() && port.size() <= 5 && std::all_of(port.begin(), port.end(), ::isdigit);
  int p = digits ? std::stoi(port) : 0;
  if (p < 1 || p > 65535) return fail("'" + text + "' has no valid port (1-65535)");
  in6_addr any{};
  bool literal = ::inet_pton(AF_INET, host.c_str(), &any) == 1 || ::inet_pton(AF_INET6, host.c_str(), &any) == 1;
  if (!host.empty() && !literal && host != "localhost")
    return fail("'" + text + "': the address is not an IPv4 or [IPv6] address, localhost or empty (every address)");
  return Listen{host, p};
}

Status applyListen(Settings& s, const RawValue& v) {
  auto listen = parseListen(v);
  if (!listen) return std::unexpected(listen.error());
  s.http01Host = listen->host;
  s.http01Port = listen->port;
  return {};
}

Status applyMetricsListen(Settings& s, const RawValue& v) {
  if (v.items.size() == 1 && scalar(v).empty()) {  // compose's ${VAR:-}: off
    s.metricsListen.reset();
    return {};
  }
  auto listen = parseListen(v);
  if (!listen) return std::unexpected(listen.error());
  s.metricsListen = *listen;
  return {};
}

Status applyDuration(Settings& s, const RawValue& v, std::chrono::seconds Settings::*field, bool allowZero) {
  auto d = durationOf(v, allowZero);
  if (!d) return std::unexpected(d.error());
  s.*field = *d;
  return {};
}

Status applyRenewBefore(Settings& s, const RawValue& v) {
  auto d = durationOf(v, true);
  if (!d) return std::unexpected(d.error());
  s.renewBefore = *d;
  return {};
}

Status applyOrderBudget(Settings& s, const RawValue& v) {
  if (auto ok = needScalar(v); !ok) return ok;
  auto rate = parseCountPer(scalar(v));
  if (!rate) return fail("'" + scalar(v) + "' is not an order budget (expected ORDERS/DURATION, such as 5/7d)");
  std::tie(s.orderBudget, s.orderWindow) = *rate;
  return {};
}

Status applyLogFormat(Settings& s, const RawValue& v) {
  if (auto ok = needScalar(v); !ok) return ok;
  if (scalar(v) == "text") s.logFormat = LogFormat::Text;
  else if (scalar(v) == "json") s.logFormat = LogFormat::Json;
  else return fail("'" + scalar(v) + "' is not a log format (expected text or json)");
  return {};
}

Status applyLogLevel(Settings& s, const RawValue& v) {
  if (auto ok = needScalar(v); !ok) return ok;
  const std::string& l = scalar(v);
  if (l == "debug") s.logLevel = LogLevel::Debug;
  else if (l == "info") s.logLevel = LogLevel::Info;
  else if (l == "warn") s.logLevel = LogLevel::Warn;
  else if (l == "error") s.logLevel = LogLevel::Error;
  else return fail("'" + l + "' is not a log level (expected debug, info, warn or error)");
  return {};
}

Status applyReload(Settings& s, const RawValue& v) {
  auto spec = v.isList ? reloadCommand(v.items) : parseReloadSpec(scalar(v));
  if (!spec) return std::unexpected(spec.error());
  s.reload = *spec;
  return {};
}

// A user or group name of the safe characters, or a number below 2^32-1.
Status checkIdentity(const std::string& id, const char* what) {
  bool ok = !id.empty() && id.size() <= 32 &&
            std::all_of(id.begin(), id.end(), [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_'; });
  if (!ok) return fail("'" + id + "' is not a " + what + " name or number");
  if (std::all_of(id.begin(), id.end(), ::isdigit) && !numericGroup(id))
    return fail("'" + id + "' is not a " + what + " number (0 to 4294967294)");
  return {};
}

Status applyFileGroup(Settings& s, const RawValue& v) {
  if (auto ok = needScalar(v); !ok) return ok;
  if (auto ok = checkIdentity(scalar(v), "group"); !ok) return ok;
  s.fileGroup = scalar(v);
  return {};
}

Status applyFileOwner(Settings& s, const RawValue& v) {
  if (auto ok = needScalar(v); !ok) return ok;
  if (auto ok = checkIdentity(scalar(v), "user"); !ok) return ok;
  s.fileOwner = scalar(v);
  return {};
}

// An octal mode of 3 or 4 digits, with no write bit for group or others: a file the
// gateway reads is never one someone else may change.
Result<unsigned> parseMode(const RawValue& v) {
  if (auto ok = needScalar(v); !ok) return std::unexpected(ok.error());
  const std::string& text = scalar(v);
  bool octal = (text.size() == 3 || text.size() == 4) &&
               std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '7'; });
  unsigned mode = octal ? static_cast<unsigned>(std::stoul(text, nullptr, 8)) : 0u;
  if (!octal || mode > 0777) return fail("'" + text + "' is not a file mode (octal, such as 0640)");
  if (mode & 022) return fail("'" + text + "' lets others than the owner change the file");
  return mode;
}

Status applyKeyMode(Settings& s, const RawValue& v) {
  auto mode = parseMode(v);
  if (!mode) return std::unexpected(mode.error());
  if (*mode & 07)
    return fail("'" + scalar(v) + "' lets every user of the host read the key: give the gateway's group "
                "(SIDECERT_FILE_GROUP) or user (SIDECERT_FILE_OWNER) instead");
  s.keyMode = *mode;
  return {};
}

Status applyCertMode(Settings& s, const RawValue& v) {
  auto mode = parseMode(v);
  if (!mode) return std::unexpected(mode.error());
  s.certMode = *mode;
  return {};
}

Status applyDockerSocket(Settings& s, const RawValue& v) {
  if (auto ok = needScalar(v); !ok) return ok;
  if (scalar(v).empty() || scalar(v).front() != '/') return fail("'" + scalar(v) + "' is not an absolute path");
  s.dockerSocket = scalar(v);
  return {};
}

}  // namespace

const std::vector<Setting>& settingsTable() {
  using namespace std::placeholders;
  static const std::vector<Setting> table = [] {
    std::vector<Setting> t = {
      {"domains", "SIDECERT_DOMAINS", applyDomains},
      {"email", "SIDECERT_EMAIL", applyEmail},
      {"name", "SIDECERT_NAME", applyName},
      {"volume", "SIDECERT_VOLUME", applyVolume},
      {"state_dir", "SIDECERT_STATE_DIR", applyStateDir},
      {"acme_directory", "SIDECERT_ACME_DIRECTORY", applyDirectory},
      {"acme_ca_bundle", "SIDECERT_ACME_CA_BUNDLE", applyCaBundle},
      {"eab_kid", "SIDECERT_EAB_KID", std::bind(applyString, &Settings::eabKid, _1, _2)},
      {"eab_hmac_key", "SIDECERT_EAB_HMAC_KEY", std::bind(applyString, &Settings::eabHmacKey, _1, _2)},
      {"acme_profile", "SIDECERT_ACME_PROFILE", std::bind(applyString, &Settings::acmeProfile, _1, _2)},
      {"preferred_chain", "SIDECERT_PREFERRED_CHAIN", std::bind(applyString, &Settings::preferredChain, _1, _2)},
      {"key_type", "SIDECERT_KEY_TYPE", applyKeyType},
      {"http01_listen", "SIDECERT_HTTP01_LISTEN", applyListen},
      {"renew_before", "SIDECERT_RENEW_BEFORE", applyRenewBefore},
      {"check_interval", "SIDECERT_CHECK_INTERVAL",
       std::bind(applyDuration, _1, _2, &Settings::checkInterval, false)},
      {"order_budget", "SIDECERT_ORDER_BUDGET", applyOrderBudget},
      {"log_format", "SIDECERT_LOG_FORMAT", applyLogFormat},
      {"log_level", "SIDECERT_LOG_LEVEL", applyLogLevel},
      {"reload", "SIDECERT_RELOAD", applyReload},
      {"reload_timeout", "SIDECERT_RELOAD_TIMEOUT",
       std::bind(applyDuration, _1, _2, &Settings::reloadTimeout, false)},
      {"user_grace", "SIDECERT_USER_GRACE", std::bind(applyDuration, _1, _2, &Settings::userGrace, true)},
      {"file_group", "SIDECERT_FILE_GROUP", applyFileGroup},
      {"file_owner", "SIDECERT_FILE_OWNER", applyFileOwner},
      {"key_mode", "SIDECERT_KEY_MODE", applyKeyMode},
      {"cert_mode", "SIDECERT_CERT_MODE", applyCertMode},
      {"docker_socket", "SIDECERT_DOCKER_SOCKET", applyDockerSocket},
      {"metrics_listen", "SIDECERT_METRICS_LISTEN", applyMetricsListen},
    };
    for (auto* more : {&alertSettings(), &challengeSettings(), &discoverSettings()}) t.insert(t.end(), more->begin(), more->end());
    return t;
  }();
  return table;
}

}  // namespace sc::config
