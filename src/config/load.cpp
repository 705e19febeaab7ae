#include "config/load.h"

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

#include "config/reload_spec.h"
#include "core/domain.h"
#include "core/duration.h"

extern char** environ;

namespace sc {
using config::RawValue;
using config::Setting;
using config::settingsTable;
using config::checkName;

namespace {

// Environment variables that are ours but not settings.
bool isOwnNonSetting(const std::string& name) { return name == "SIDECERT_CONFIG"; }

Result<RawValue> yamlValue(const YAML::Node& node, const std::string& where) {
  RawValue v;
  v.origin = where;
  if (node.IsScalar()) {
    v.items.push_back(node.Scalar());
  } else if (node.IsSequence()) {
    v.isList = true;
    for (const auto& item : node) {
      if (!item.IsScalar()) return fail("list items must be plain values");
      v.items.push_back(item.Scalar());
    }
  } else if (node.IsNull()) {
    v.items.push_back("");
  } else {
    return fail("expects a value or a list, not a mapping");
  }
  return v;
}

using RawValues = std::map<std::string, RawValue>;  // by yaml key

// One entry of the `certificates:` list (or of SIDECERT_CERTIFICATES), as given.
struct RawCertificate {
  RawValues values;
  std::string origin;
};
using RawCertificates = std::optional<std::vector<RawCertificate>>;

// What an entry of `certificates:` may set; everything else is shared by all.
const std::set<std::string> kPerCertificate = {"name", "domains", "key_type", "acme_profile", "reload", "renew_before",
                                               "challenge"};

Result<std::vector<RawCertificate>> yamlCertificates(const YAML::Node& node, const std::string& file) {
  std::vector<RawCertificate> out;
  if (!node.IsSequence()) return fail("expects a list of certificates, each with name and domains");
  for (const auto& entry : node) {
    std::string at = file + ":" + std::to_string(entry.Mark().line + 1);
    if (!entry.IsMap()) return fail(at + ": each certificate is a mapping (name, domains, ...)");
    RawCertificate c{{}, at};
    for (const auto& kv : entry) {
      std::string key = kv.first.Scalar();
      std::string where = file + ":" + std::to_string(kv.first.Mark().line + 1);
      if (!kPerCertificate.count(key))
        return fail(where + ": " + key + ": not a setting of one certificate (name, domains, key_type, "
                    "acme_profile, reload, renew_before, challenge)");
      auto v = yamlValue(kv.second, where);
      if (!v) return fail(where + ": " + key + ": " + v.error().message);
      if (c.values.count(key)) return fail(where + ": " + key + ": set twice in one certificate");
      c.values[key] = *v;
    }
    out.push_back(std::move(c));
  }
  return out;
}

// SIDECERT_CERTIFICATES="api=api.example.com,www.example.com; admin=admin.example.com":
// NAME=DOMAINS, separated by ';'. The other settings come from the shared ones.
Result<std::vector<RawCertificate>> envCertificates(const std::string& text) {
  std::vector<RawCertificate> out;
  std::stringstream ss(text);
  for (std::string part; std::getline(ss, part, ';');) {
    part.erase(0, part.find_first_not_of(" \t\n"));
    part.erase(part.find_last_not_of(" \t\n") + 1);
    if (part.empty()) continue;
    auto eq = part.find('=');
    if (eq == std::string::npos)
      return fail("'" + part + "' is not NAME=DOMAINS (such as api=api.example.com,www.example.com)");
    RawCertificate c{{}, "SIDECERT_CERTIFICATES"};
    c.values["name"] = RawValue{{part.substr(0, eq)}, false, "SIDECERT_CERTIFICATES"};
    c.values["domains"] = RawValue{{part.substr(eq + 1)}, false, "SIDECERT_CERTIFICATES"};
    out.push_back(std::move(c));
  }
  if (out.empty()) return fail("lists no certificate");
  return out;
}

// A settings file is a few hundred bytes; a huge one is a mistake or an attack
// (a YAML bomb is refused by yaml-cpp, a 200 MB file would still be read).
constexpr off_t kMaxConfigBytes = 1 << 20;

Status readYaml(const std::string& file, RawValues& out, RawCertificates& certificates) {
  struct stat st{};
  if (::stat(file.c_str(), &st) == 0 && st.st_size > kMaxConfigBytes)
    return fail(file + ": the config file is larger than 1 MiB");
  YAML::Node root;
  try {
    root = YAML::LoadFile(file);
  } catch (const YAML::BadFile&) {
    return fail(file + ": cannot read the config file: " + std::strerror(errno));
  } catch (const YAML::ParserException& e) {
    return fail(file + ":" + std::to_string(e.mark.line + 1) + ": not valid YAML: " + e.msg);
  }
  if (root.IsNull()) return {};
  if (!root.IsMap()) return fail(file + ":1: the config file must be a mapping of settings");
  for (const auto& kv : root) {
    std::string key = kv.first.Scalar();
    std::string where = file + ":" + std::to_string(kv.first.Mark().line + 1);
    if (key == "certificates") {
      if (certificates) return fail(where + ": certificates: set twice");
      auto list = yamlCertificates(kv.second, file);
      if (!list) return fail(where + ": certificates: " + list.error().message);
      certificates = std::move(*list);
      continue;
    }
    auto known = std::find_if(settingsTable().begin(), settingsTable().end(),
                              [&](const Setting& s) { return key == s.yamlKey; });
    if (known == settingsTable().end()) return fail(where + ": " + key + ": unknown setting");
    auto v = yamlValue(kv.second, where);
    if (!v) return fail(where + ": " + key + ": " + v.error().message);
    if (auto first = out.find(key); first != out.end())
      return fail(where + ": " + key + ": set twice (first at " + first->second.origin + ")");
    out[key] = *v;
  }
  return {};
}

Status readEnvironment(const Environment& env, RawValues& out, RawCertificates& certificates) {
  for (const auto& [name, value] : env) {
    if (name.rfind("SIDECERT_", 0) != 0 || isOwnNonSetting(name)) continue;
    if (name == "SIDECERT_CERTIFICATES") {  // the environment wins over the file's list
      if (value.find_first_not_of(" \t\n") == std::string::npos) continue;  // compose's ${VAR:-}: none
      auto list = envCertificates(value);
      if (!list) return fail(name + ": " + list.error().message);
      certificates = std::move(*list);
      continue;
    }
    auto known = std::find_if(settingsTable().begin(), settingsTable().end(),
                              [&](const Setting& s) { return name == s.envName; });
    if (known == settingsTable().end()) return fail(name + ": unknown setting");
    out[known->yamlKey] = RawValue{{value}, false, name};
  }
  return {};
}

std::string lookup(const Environment& env, const std::string& name) {
  auto it = env.find(name);
  return it == env.end() ? "" : it->second;
}

// The AIoTES variables and the derived defaults, where nothing explicit was given.
void applyAliases(RawValues& raw, const Environment& env, bool& viaAiotes) {
  viaAiotes = false;
  if (!raw.count("domains") && !lookup(env, "AIOTES_HOSTNAME").empty()) {
    raw["domains"] = RawValue{{lookup(env, "AIOTES_HOSTNAME")}, false, "AIOTES_HOSTNAME"};
    viaAiotes = true;
  }
  // acme-companion's account contact, so that its stack moves over unedited.
  for (const char* alias : {"AIOTES_SYSADMIN_EMAIL", "DEFAULT_EMAIL"})
    if (!raw.count("email") && !lookup(env, alias).empty()) raw["email"] = RawValue{{lookup(env, alias)}, false, alias};
}

std::string keyLabel(const Setting& s, const RawValue& v) {
  // YAML errors say the YAML key; env errors the variable and discovered ones the
  // label, which their origin names.
  return v.origin.rfind("SIDECERT_", 0) == 0 || v.origin.rfind("AIOTES_", 0) == 0 || v.origin == "DEFAULT_EMAIL" ||
                 v.origin.find(": label ") != std::string::npos
             ? v.origin
             : v.origin + ": " + s.yamlKey;
}

}  // namespace

std::optional<gid_t> numericGroup(const std::string& text) {
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || n >= 0xffffffffULL) return std::nullopt;
  return static_cast<gid_t>(n);
}

Environment processEnvironment() {
  Environment env;
  for (char** e = environ; e && *e; ++e) {
    std::string kv = *e;
    auto eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return env;
}

namespace {

CertificateSpec specOf(const Settings& one, const std::string& origin) {
  return {one.name, one.domains, one.keyType, one.acmeProfile, one.reload, one.renewBefore, one.challenge, origin};
}

// Which names the lineage's challenge can prove: a wildcard only a DNS challenge,
// an IP address only http-01 (RFC 8738 7: no DNS name to put a record under).
Status checkChallenge(const CertificateSpec& c, const std::string& where) {
  std::string setting = where.rfind("SIDECERT_", 0) == 0 || where == "hostname" || where == "default"
                            ? "SIDECERT_CHALLENGE" : "challenge (or SIDECERT_CHALLENGE)";
  for (const auto& n : c.domains) {
    if (isWildcard(n) && !isDnsChallenge(c.challenge))
      return fail(where + ": '" + n + "' is a wildcard, which " + challengeTypeName(c.challenge) +
                  " cannot prove: set " + setting + " to dns-persist-01 or dns-01");
    if (isIpAddress(n) && isDnsChallenge(c.challenge))
      return fail(where + ": '" + n + "' is an IP address, which " + challengeTypeName(c.challenge) +
                  " cannot prove (no DNS name to hold the record): use http-01 for it, in a certificate of its own");
  }
  return {};
}

// What dns-01 needs beside the challenge: the server that takes the updates and,
// for a TSIG key, both its name and its secret.
Status checkDnsUpdates(const Settings& s) {
  bool dns01 = usesChallenge(s, ChallengeType::Dns01);
  if (s.dns.tsigKey.empty() != s.dns.tsigSecret.empty())
    return fail(std::string(s.dns.tsigKey.empty() ? "SIDECERT_DNS_TSIG_KEY" : "SIDECERT_DNS_TSIG_SECRET_FILE") +
                ": a TSIG key needs both SIDECERT_DNS_TSIG_KEY (its name) and SIDECERT_DNS_TSIG_SECRET_FILE");
  if (dns01 && s.dns.server.empty())
    return fail("SIDECERT_DNS_SERVER: dns-01 needs the address of the DNS server that takes RFC 2136 updates "
                "for the zone (its primary)");
  return {};
}

// Each entry of the list, over the shared settings: the same checks and messages
// as the single-certificate settings, each naming the entry's file and line.
Result<CertificateSpec> certificateOf(const RawCertificate& entry, const Settings& shared) {
  Settings one = shared;
  one.name.clear();
  one.domains.clear();
  for (const auto& setting : settingsTable()) {
    auto it = entry.values.find(setting.yamlKey);
    if (it == entry.values.end()) continue;
    if (auto ok = setting.apply(one, it->second); !ok)
      return fail(keyLabel(setting, it->second) + ": " + ok.error().message);
  }
  if (one.domains.empty()) return fail(entry.origin + ": certificates: an entry without domains");
  if (one.name.empty()) return fail(entry.origin + ": certificates: an entry without a name");
  CertificateSpec spec = specOf(one, entry.origin);
  if (auto ok = checkChallenge(spec, entry.origin); !ok) return std::unexpected(ok.error());
  return spec;
}

Result<std::vector<CertificateSpec>> certificatesFrom(const std::vector<RawCertificate>& raw, const Settings& shared) {
  std::vector<CertificateSpec> out;
  std::set<std::string> names;
  for (const auto& entry : raw) {
    auto one = certificateOf(entry, shared);
    if (!one) return std::unexpected(one.error());
    if (!names.insert(one->name).second)
      return fail(entry.origin + ": certificates: the name '" + one->name + "' is given twice; each has its own folder");
    out.push_back(std::move(*one));
  }
  return out;
}

// Discovery orders only inside the allow-list, which is never implied. With no
// certificate configured, the one lineage is the default set a gateway serves to
// names it has no lineage for: self-signed, never ordered.
Status checkDiscovery(Settings& s, const RawValues& raw, const std::string& hostname) {
  if (!s.discover.on()) return {};
  if (s.discover.allow.empty())
    return fail(std::string("SIDECERT_DISCOVER_ALLOW: required with SIDECERT_DISCOVER=") +
                (s.discover.mode == DiscoverSettings::Mode::Swarm ? "swarm" : "docker") +
                ": give the domains sidecert may order for discovered names (such as *.example.org,example.org), "
                "or * to allow any");
  if (raw.count("domains") || raw.count("name")) return {};
  auto host = validateDomain(hostname);
  s.domains = {host ? *host : std::string("localhost")};
  s.name = "default";
  s.domainsFromHostname = true;
  s.origins["domains"] = s.origins["name"] = "SIDECERT_DISCOVER";
  s.certificates = {specOf(s, "SIDECERT_DISCOVER")};
  s.certificates.front().selfSignedOnly = true;
  return {};
}

// The single-certificate settings: a list of one, named after the first domain
// unless SIDECERT_NAME (or the AIoTES alias) says otherwise.
Status singleCertificate(Settings& s, bool viaAiotes, const std::string& hostname) {
  if (s.domains.empty()) {
    auto host = validateDomain(hostname);
    s.domains = {host ? *host : std::string("localhost")};
    s.domainsFromHostname = true;
    s.origins["domains"] = "hostname";
  }
  if (s.name.empty()) {
    s.name = viaAiotes ? "aiotes" : challengeDomain(s.domains.front());
    s.origins["name"] = viaAiotes ? "AIOTES_HOSTNAME" : "first domain";
    if (auto ok = checkName(s.name); !ok)
      return fail(s.origins["domains"] + ": the first domain, which names the folders, " + ok.error().message +
                  "; set SIDECERT_NAME");
  }
  s.certificates = {specOf(s, s.origins["domains"])};
  return checkChallenge(s.certificates.front(), s.origins["domains"]);
}

std::string labelOf(const RawValues& raw, const std::string& key, const char* envName) {
  auto it = raw.find(key);
  if (it == raw.end()) return envName;
  return it->second.origin.rfind("SIDECERT_", 0) == 0 ? it->second.origin : it->second.origin + ": " + key;
}

// What the alert settings mean together: one source per secret, a TLS mode the
// URL allows, someone to mail and someone to mail from.
Status checkAlerts(Settings& s, const RawValues& raw) {
  for (auto [plain, file, env] : {std::tuple{"alert_webhook", "alert_webhook_file", "SIDECERT_ALERT_WEBHOOK_FILE"},
                                  std::tuple{"smtp_password", "smtp_password_file", "SIDECERT_SMTP_PASSWORD_FILE"}})
    if (raw.count(plain) && raw.count(file))
      return fail(labelOf(raw, file, env) + ": given beside " + raw.at(plain).origin + "; give one of the two");
  auto& a = s.alerts;
  if (!a.mail()) return {};
  bool implicitScheme = a.smtpUrl.rfind("smtps://", 0) == 0;
  if (!raw.count("smtp_tls")) a.smtpTls = implicitScheme ? AlertSettings::SmtpTls::Implicit : AlertSettings::SmtpTls::StartTls;
  else if (implicitScheme && a.smtpTls != AlertSettings::SmtpTls::Implicit)
    return fail(labelOf(raw, "smtp_tls", "SIDECERT_SMTP_TLS") + ": smtps:// is TLS from the first byte; use smtp:// for starttls or none");
  if (a.smtpPassword.empty() != a.smtpUser.empty())
    return fail(labelOf(raw, a.smtpUser.empty() ? "smtp_password" : "smtp_user",
                        a.smtpUser.empty() ? "SIDECERT_SMTP_PASSWORD" : "SIDECERT_SMTP_USER") +
                ": SMTP authentication needs both SIDECERT_SMTP_USER and a password");
  if (a.to.empty() && !s.email.empty()) a.to = {s.email};
  if (a.to.empty())
    return fail(labelOf(raw, "smtp_url", "SIDECERT_SMTP_URL") +
                ": mail has no recipient: set SIDECERT_ALERT_EMAIL or the account contact SIDECERT_EMAIL");
  return {};
}

}  // namespace

Result<Settings> loadSettings(const std::optional<std::string>& configFile, const Environment& env,
                              const std::string& hostname) {
  RawValues raw;
  RawCertificates certificates;
  if (configFile)
    if (auto ok = readYaml(*configFile, raw, certificates); !ok) return std::unexpected(ok.error());
  if (auto ok = readEnvironment(env, raw, certificates); !ok) return std::unexpected(ok.error());
  bool viaAiotes = false;
  applyAliases(raw, env, viaAiotes);
  if (certificates && raw.count("name") && !raw.count("domains"))
    return fail(raw["name"].origin + ": name: names the certificate of SIDECERT_DOMAINS, and none is given; "
                "each entry of the certificates list has its own name");

  Settings s;
  s.acmeDirectories = {"https://acme-v02.api.letsencrypt.org/directory"};
  for (const auto& setting : settingsTable()) {
    auto it = raw.find(setting.yamlKey);
    if (it == raw.end()) {
      s.origins[setting.yamlKey] = "default";
      continue;
    }
    if (auto ok = setting.apply(s, it->second); !ok)
      return fail(keyLabel(setting, it->second) + ": " + ok.error().message);
    s.origins[setting.yamlKey] = it->second.origin;
  }
  if (auto ok = checkAlerts(s, raw); !ok) return std::unexpected(ok.error());
  if (s.eabKid.empty() != s.eabHmacKey.empty())
    return fail(std::string(s.eabKid.empty() ? "SIDECERT_EAB_KID" : "SIDECERT_EAB_HMAC_KEY") +
                ": External Account Binding needs both SIDECERT_EAB_KID and SIDECERT_EAB_HMAC_KEY");
  auto inside = s.stateDir.lexically_relative(s.volume.lexically_normal());
  if (!inside.empty() && *inside.begin() != "..")
    return fail((s.origins["state_dir"] == "default" ? "SIDECERT_STATE_DIR" : s.origins["state_dir"]) + ": " +
                s.stateDir.string() + " is inside the volume " + s.volume.string() +
                ", which the gateway shares: give sidecert's state a folder of its own");
  if (certificates) {
    auto list = certificatesFrom(*certificates, s);
    if (!list) return std::unexpected(list.error());
    // The single-certificate settings beside a list (AIOTES_HOSTNAME in the shipped
    // compose file, say) are one more lineage, the first.
    std::vector<CertificateSpec> all;
    if (raw.count("domains")) {
      if (auto ok = singleCertificate(s, viaAiotes, hostname); !ok) return std::unexpected(ok.error());
      all = s.certificates;
    }
    for (auto& c : *list) {
      if (std::any_of(all.begin(), all.end(), [&](const CertificateSpec& a) { return a.name == c.name; }))
        return fail(c.origin + ": certificates: the name '" + c.name + "' is also the name of " + all.front().origin +
                    "'s certificate; each has its own folder");
      all.push_back(std::move(c));
    }
    s.certificates = std::move(all);
    // The first lineage also fills the single-certificate fields, for what reads them.
    s.name = s.certificates.front().name;
    s.domains = s.certificates.front().domains;
    s.origins["name"] = s.origins["domains"] = s.certificates.front().origin;
  } else if (s.discover.on() && !raw.count("domains") && !raw.count("name")) {
    if (auto ok = checkDiscovery(s, raw, hostname); !ok) return std::unexpected(ok.error());
  } else if (auto ok = singleCertificate(s, viaAiotes, hostname); !ok) {
    return std::unexpected(ok.error());
  }
  if (auto ok = checkDiscovery(s, raw, hostname); !ok) return std::unexpected(ok.error());
  if (auto ok = checkDnsUpdates(s); !ok) return std::unexpected(ok.error());
  if (s.alerts.from.empty()) s.alerts.from = "sidecert@" + challengeDomain(s.certificates.front().domains.front());
  return s;
}

Result<CertificateSpec> certificateFrom(const std::map<std::string, DiscoveredValue>& values, const std::string& origin,
                                        const Settings& shared) {
  RawCertificate entry{{}, origin};
  for (const auto& [key, value] : values) {
    if (!kPerCertificate.count(key) || key == "reload")
      return fail(origin + ": " + key + ": not a setting of a discovered certificate (name, domains, key_type, "
                  "acme_profile, renew_before, challenge)");
    entry.values[key] = RawValue{{value.text}, false, origin + ": label " + value.label};
  }
  return certificateOf(entry, shared);
}

}  // namespace sc
