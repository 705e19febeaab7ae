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
#include "config/reload_spec.h"
#include "core/domain.h"
#include "core/duration.h"

namespace sc::config {

namespace {

const std::string& scalar(const RawValue& v) { return v.items.front(); }

Status needScalar(const RawValue& v) {
  if (v.isList || v.items.size() != 1) return fail("expects a single value, not a list");
  return {};
}

std::vector<std::string> splitCommas(const RawValue& v) {
  std::vector<std::string> out;
  for (const auto& item : v.items) {
    std::stringstream ss(item);
    for (std::string part; std::getline(ss, part, ',');) {
      part.erase(0, part.find_first_not_of(" \t"));
      part.erase(part.find_last_not_of(" \t") + 1);
      if (!part.empty()) out.push_back(part);
    }
  }
  return out;
}

Status applyDomains(Settings& s, const RawValue& v) {
  s.domains.clear();
  for (const auto& d : splitCommas(v)) {
    auto ok = validateIdentifier(d);
    if (!ok) return std::unexpected(ok.error());
    if (std::find(s.domains.begin(), s.domains.end(), *ok) == s.domains.end()) s.domains.push_back(*ok);
  }
  if (s.domains.empty()) return fail("lists no domain name");
  return {};
}

// LOCAL@DOMAIN: a plain local part (no quoting, no spaces, no control characters)
// and a domain name; what a CA accepts as a contact (RFC 8555 7.3: mailto).
bool isEmailAddress(const std::string& e) {
  auto at = e.rfind('@');
  auto plain = [](unsigned char c) { return std::isalnum(c) || std::strchr("!#$%&'*+-/=?^_`{|}~.", c); };
  return e.size() <= 254 && at != std::string::npos && at > 0 && at <= 64 &&
         std::all_of(e.begin(), e.begin() + static_cast<long>(at), plain) && validateDomain(e.substr(at + 1));
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

// A URL of at most 2 KiB with a host and nothing a URL may not hold (spaces,
// control characters, a fragment), parsed; none when it is not one.
std::optional<Poco::URI> parsedUrl(const std::string& url) {
  if (url.size() > 2048) return std::nullopt;
  if (std::any_of(url.begin(), url.end(), [](unsigned char c) { return c <= ' ' || c >= 0x7f; })) return std::nullopt;
  try {
    Poco::URI uri(url);
    if (uri.getHost().empty() || !uri.getFragment().empty()) return std::nullopt;
    return uri;
  } catch (const Poco::Exception&) {
    return std::nullopt;
  }
}

// https://HOST[:PORT][/PATH], without user info.
bool isHttpsUrl(const std::string& url) {
  auto uri = parsedUrl(url);
  return uri && url.rfind("https://", 0) == 0 && uri->getUserInfo().empty();
}

// One of `schemes`; without a path or query unless `pathAllowed`.
bool isUrl(const std::string& url, std::initializer_list<const char*> schemes, bool pathAllowed) {
  auto uri = parsedUrl(url);
  if (!uri) return false;
  bool scheme = std::any_of(schemes.begin(), schemes.end(), [&](const char* s) { return uri->getScheme() == s; });
  bool path = pathAllowed || ((uri->getPath().empty() || uri->getPath() == "/") && uri->getRawQuery().empty());
  return scheme && path;
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

// A file sidecert must be able to read, such as a CA bundle.
Result<std::string> readablePath(const RawValue& v) {
  if (auto ok = needScalar(v); !ok) return std::unexpected(ok.error());
  if (access(scalar(v).c_str(), R_OK) != 0) return fail("cannot read '" + scalar(v) + "': " + std::strerror(errno));
  return scalar(v);
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

Result<std::chrono::seconds> durationOf(const RawValue& v, bool allowZero) {
  if (auto ok = needScalar(v); !ok) return std::unexpected(ok.error());
  auto d = parseDuration(scalar(v));
  if (d && !allowZero && d->count() == 0) return fail("must be longer than 0s");
  return d;
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
  const std::string& text = scalar(v);
  auto slash = text.find('/');
  std::string count = text.substr(0, slash);
  bool digits = !count.empty() && count.size() <= 6 && std::all_of(count.begin(), count.end(), ::isdigit);
  auto window = slash == std::string::npos ? Result<std::chrono::seconds>(fail("")) : parseDuration(text.substr(slash + 1));
  if (!digits || !window || std::stoi(count) < 1 || window->count() < 1)
    return fail("'" + text + "' is not an order budget (expected ORDERS/DURATION, such as 5/7d)");
  s.orderBudget = std::stoi(count);
  s.orderWindow = *window;
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

// What a secret's file holds, without the newline an editor or `echo` ends it with.
Result<std::string> readSecretFile(const std::string& path) {
  if (path.empty() || path.front() != '/') return fail("'" + path + "' is not an absolute path");
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail("cannot read '" + path + "': " + std::strerror(errno));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.size() > 4096) return fail("'" + path + "' is larger than 4 KiB: not a secret");
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (text.empty()) return fail("'" + path + "' is empty");
  return text;
}

Status checkWebhook(const std::string& url) {
  if (url.empty() || isUrl(url, {"http", "https"}, true)) return {};
  // the URL may carry a token: it is not repeated in the message
  return fail("is not an http:// or https:// URL with a host");
}

Status applyWebhook(Settings& s, const RawValue& v) {
  if (auto ok = needScalar(v); !ok) return ok;
  if (auto ok = checkWebhook(scalar(v)); !ok) return ok;
  s.alerts.webhook = scalar(v);
  return {};
}

Status applyWebhookFile(Settings& s, const RawValue& v) {
  if (auto ok = needScalar(v); !ok) return ok;
  auto url = readSecretFile(scalar(v));
  if (!url) return std::unexpected(url.error());
  if (auto ok = checkWebhook(*url); !ok) return fail("'" + scalar(v) + "' holds what " + ok.error().message);
  s.alerts.webhook = *url;
  return {};
}

Status applyWebhookFormat(Settings& s, const RawValue& v) {
  if (auto ok = needScalar(v); !ok) return ok;
  if (scalar(v) == "json") s.alerts.webhookFormat = AlertSettings::WebhookFormat::Json;
  else if (scalar(v) == "ntfy") s.alerts.webhookFormat = AlertSettings::WebhookFormat::Ntfy;
  else return fail("'" + scalar(v) + "' is not a webhook format (expected json or ntfy)");
  return {};
}

Status applySmtpUrl(Settings& s, const RawValue& v) {
  if (auto ok = needScalar(v); !ok) return ok;
  const std::string& url = scalar(v);
  if (!url.empty() && !isUrl(url, {"smtp", "smtps"}, false))
    return fail("'" + url + "' is not smtp://HOST[:PORT] or smtps://HOST[:PORT]");
  s.alerts.smtpUrl = url;
  return {};
}

Status applySmtpTls(Settings& s, const RawValue& v) {
  if (auto ok = needScalar(v); !ok) return ok;
  const std::string& mode = scalar(v);
  if (mode == "starttls") s.alerts.smtpTls = AlertSettings::SmtpTls::StartTls;
  else if (mode == "tls") s.alerts.smtpTls = AlertSettings::SmtpTls::Implicit;
  else if (mode == "none") s.alerts.smtpTls = AlertSettings::SmtpTls::None;
  else return fail("'" + mode + "' is not a TLS mode (expected starttls, tls or none)");
  return {};
}

Status applySmtpPasswordFile(Settings& s, const RawValue& v) {
  if (auto ok = needScalar(v); !ok) return ok;
  auto password = readSecretFile(scalar(v));
  if (!password) return std::unexpected(password.error());
  s.alerts.smtpPassword = *password;
  return {};
}

Status applyAlertEmail(Settings& s, const RawValue& v) {
  s.alerts.to.clear();
  for (const auto& e : splitCommas(v)) {
    if (!isEmailAddress(e)) return fail("'" + e + "' is not an email address (LOCAL@DOMAIN)");
    s.alerts.to.push_back(e);
  }
  return {};
}

Status applyAlertFrom(Settings& s, const RawValue& v) {
  if (auto ok = needScalar(v); !ok) return ok;
  if (!scalar(v).empty() && !isEmailAddress(scalar(v)))
    return fail("'" + scalar(v) + "' is not an email address (LOCAL@DOMAIN)");
  s.alerts.from = scalar(v);
  return {};
}

Status applyAlertCaBundle(Settings& s, const RawValue& v) {
  auto path = readablePath(v);
  if (!path) return std::unexpected(path.error());
  s.alerts.caBundle = *path;
  return {};
}

Status applyAlertDuration(Settings& s, const RawValue& v, std::chrono::seconds AlertSettings::*field) {
  auto d = durationOf(v, false);
  if (!d) return std::unexpected(d.error());
  s.alerts.*field = *d;
  return {};
}

Status applyExpiryWithin(Settings& s, const RawValue& v) {
  auto d = durationOf(v, true);
  if (!d) return std::unexpected(d.error());
  s.alerts.expiryWithin = *d;
  return {};
}

Status applyAlertString(std::string AlertSettings::*field, Settings& s, const RawValue& v) {
  if (auto ok = needScalar(v); !ok) return ok;
  s.alerts.*field = scalar(v);
  return {};
}

}  // namespace

const std::vector<Setting>& settingsTable() {
  using namespace std::placeholders;
  static const std::vector<Setting> table = {
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
      {"alert_webhook", "SIDECERT_ALERT_WEBHOOK", applyWebhook},
      {"alert_webhook_file", "SIDECERT_ALERT_WEBHOOK_FILE", applyWebhookFile},
      {"alert_webhook_format", "SIDECERT_ALERT_WEBHOOK_FORMAT", applyWebhookFormat},
      {"alert_email", "SIDECERT_ALERT_EMAIL", applyAlertEmail},
      {"alert_from", "SIDECERT_ALERT_FROM", applyAlertFrom},
      {"smtp_url", "SIDECERT_SMTP_URL", applySmtpUrl},
      {"smtp_tls", "SIDECERT_SMTP_TLS", applySmtpTls},
      {"smtp_user", "SIDECERT_SMTP_USER", std::bind(applyAlertString, &AlertSettings::smtpUser, _1, _2)},
      {"smtp_password", "SIDECERT_SMTP_PASSWORD", std::bind(applyAlertString, &AlertSettings::smtpPassword, _1, _2)},
      {"smtp_password_file", "SIDECERT_SMTP_PASSWORD_FILE", applySmtpPasswordFile},
      {"alert_ca_bundle", "SIDECERT_ALERT_CA_BUNDLE", applyAlertCaBundle},
      {"alert_after", "SIDECERT_ALERT_AFTER", std::bind(applyAlertDuration, _1, _2, &AlertSettings::after)},
      {"alert_expiry_within", "SIDECERT_ALERT_EXPIRY_WITHIN", applyExpiryWithin},
      {"alert_remind", "SIDECERT_ALERT_REMIND", std::bind(applyAlertDuration, _1, _2, &AlertSettings::remind)},
  };
  return table;
}

}  // namespace sc::config
