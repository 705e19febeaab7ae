#pragma once
#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/challenge_type.h"
#include "core/clock.h"
#include "core/key_type.h"
#include "core/log_options.h"

namespace sc {

// What sidecert does after the live set changed, so the gateway uses it.
struct ReloadSpec {
  enum class Kind { None, Command, Signal, DockerRestart, DockerService, DockerExec, Swarm };
  Kind kind = Kind::None;
  std::vector<std::string> argv;  // Command, DockerExec: run as is, never through a shell
  std::string target;             // Signal: a process name; Docker*, Swarm: a container or service
  std::string dir;                // Swarm: where the service's tasks find live/<name>/
  int signal = 0;                 // Signal
  std::string describe() const;
};

// One lineage: a certificate, and the folder live/<name>/ it is kept in.
struct CertificateSpec {
  std::string name;
  std::vector<std::string> domains;  // validated, lower case; first is the subject
  KeyType keyType = KeyType::Ec256;
  std::string acmeProfile;
  ReloadSpec reload;
  std::optional<std::chrono::seconds> renewBefore;
  ChallengeType challenge = ChallengeType::Http01;
  std::string origin;  // "sidecert.yml:12", "SIDECERT_CERTIFICATES", or the single-certificate settings
  // Only the self-signed source: the default set of discovery with nothing configured.
  bool selfSignedOnly = false;
  // From a container's or service's labels (origin names it), not from the settings.
  bool discovered = false;
};

// Where operators hear of trouble: mail through an SMTP relay, a webhook, or both.
struct AlertSettings {
  enum class WebhookFormat { Json, Ntfy };
  enum class SmtpTls { StartTls, Implicit, None };
  std::string webhook;  // http(s) URL; empty: no webhook. A secret: never logged
  WebhookFormat webhookFormat = WebhookFormat::Json;
  std::string smtpUrl;  // smtp://HOST[:PORT] or smtps://HOST[:PORT]; empty: no mail
  SmtpTls smtpTls = SmtpTls::StartTls;
  std::string smtpUser;
  std::string smtpPassword;  // a secret: never logged
  std::string from;          // empty: sidecert@<first domain>
  std::vector<std::string> to;  // empty: the account contact (email)
  std::string caBundle;         // the relay's and the webhook's roots; empty: the system's
  // A lineage without a valid certificate for this long is alerted on.
  std::chrono::seconds after = std::chrono::hours(1);
  // A failing renewal is alerted on once this little is left; unset: half the margin.
  std::optional<std::chrono::seconds> expiryWithin;
  std::chrono::seconds remind = std::chrono::hours(24);
  bool mail() const { return !smtpUrl.empty(); }
  bool any() const { return mail() || !webhook.empty(); }
};

// The DNS challenges: where sidecert looks records up, the dns-persist-01 record's
// fields, and the RFC 2136 server dns-01 updates.
struct DnsSettings {
  std::vector<std::string> resolvers;  // ADDRESS[:PORT]; empty: /etc/resolv.conf's
  std::string persistIssuer;           // empty: the CA's own (its directory's caaIdentities)
  std::optional<TimePoint> persistUntil;
  std::string server;                  // dns-01: ADDRESS[:PORT] that takes the updates
  std::string zone;                    // empty: found by an SOA lookup
  std::string tsigKey;                 // the TSIG key's name; empty: unsigned updates
  std::string tsigAlgorithm = "hmac-sha256";
  std::string tsigSecret;              // base64, from a file: a secret, never logged
};

// Names from the stack (issue 32): containers or swarm services that carry
// `sidecert.domains` (or acme-companion's LETSENCRYPT_HOST) become lineages.
struct DiscoverSettings {
  enum class Mode { Off, Docker, Swarm };
  Mode mode = Mode::Off;
  // Domain patterns a discovered name must match: "example.org" (that name),
  // "*.example.org" (any name below it), "*" (any name: said on purpose).
  std::vector<std::string> allow;
  // A container that is gone keeps its lineage this long (a redeploy, a crash loop).
  std::chrono::seconds grace = std::chrono::hours(1);
  // A container becomes a lineage only once it has been up this long.
  std::chrono::seconds settle = std::chrono::seconds(5);
  // The longest time between two full reads of the engine's containers or services.
  std::chrono::seconds resync = std::chrono::minutes(5);
  bool on() const { return mode != Mode::Off; }
};

// N events per window, as a CA counts them (Let's Encrypt: 300 new orders per
// account per 3 hours).
struct RateLimit {
  int count = 0;
  std::chrono::seconds window{0};
};

// Views of each published set beside certbot's live/ (issue 32).
enum class Layout { Certbot, NginxProxy };

struct Listen {
  std::string host;  // empty: every address, IPv4 and IPv6
  int port = 0;
  std::string describe() const;
};

struct Settings {
  std::vector<std::string> domains;   // validated, lower case; first is the subject
  bool domainsFromHostname = false;   // nothing configured: the host's own name
  std::string email;
  std::string name;                   // lineage: live/<name>/
  std::filesystem::path volume = "/etc/letsencrypt";
  // sidecert's own: account keys, what it wrote, backoff, budget, lock. Never in
  // the volume, which the gateway shares.
  std::filesystem::path stateDir = "/var/lib/sidecert";
  std::vector<std::string> acmeDirectories;  // expanded URLs, tried in order; empty = ACME off
  std::string acmeCaBundle;
  std::string eabKid;
  std::string eabHmacKey;
  std::string acmeProfile;     // e.g. Let's Encrypt's "shortlived", "tlsserver"
  std::string preferredChain;  // issuer CN of the top of the chain wanted
  KeyType keyType = KeyType::Ec256;
  ChallengeType challenge = ChallengeType::Http01;
  DnsSettings dns;
  std::string http01Host;             // empty: every address, IPv4 and IPv6
  int http01Port = 80;
  std::optional<std::chrono::seconds> renewBefore;  // unset: the lifetime rule
  std::chrono::seconds checkInterval = std::chrono::hours(24 * 7);
  // At most this many orders per lineage and CA within the window (Let's
  // Encrypt's duplicate-certificate limit); SIDECERT_ORDER_BUDGET=N/DURATION.
  int orderBudget = 5;
  std::chrono::seconds orderWindow = std::chrono::hours(24 * 7);
  LogFormat logFormat = LogFormat::Text;
  LogLevel logLevel = LogLevel::Info;
  ReloadSpec reload;
  std::chrono::seconds reloadTimeout = std::chrono::seconds(30);
  // A user copying key, cert and chain one `docker cp` at a time leaves a
  // half-replaced set for a while; this is how long sidecert waits for the rest.
  std::chrono::seconds userGrace = std::chrono::seconds(60);
  std::string fileGroup;              // group that may read the key (0640)
  std::string fileOwner;              // user (name or number) who owns the published files
  std::optional<unsigned> keyMode;    // privkey.pem and combined.pem; unset: 0600, 0640 with fileGroup
  unsigned certMode = 0644;           // cert.pem, chain.pem, fullchain.pem
  std::filesystem::path dockerSocket = "/var/run/docker.sock";  // docker-restart, docker-service
  AlertSettings alerts;
  std::optional<Listen> metricsListen;  // /metrics for Prometheus; unset: off
  DiscoverSettings discover;
  Layout layout = Layout::Certbot;      // nginx-proxy: also certs/<host>.crt, .key, .chain.pem
  // HTTP-01 by token files under <webroot>/.well-known/acme-challenge/; empty: off.
  std::filesystem::path http01Webroot;
  // New orders per ACME account (unset: the CA's known limit, else none); failed
  // validations per name (Let's Encrypt: 5 per hour).
  std::optional<RateLimit> accountOrderLimit;
  std::optional<RateLimit> validationFailureLimit;

  // Every lineage, in the order given: the `certificates:` list, or else one made
  // of the single-certificate settings above (name, domains, key_type, ...).
  std::vector<CertificateSpec> certificates;

  // Where each setting came from ("SIDECERT_DOMAINS", "config.yml:4", "default").
  std::map<std::string, std::string> origins;
};

std::string describeListen(const Settings& s);
// Some certificate proves its names with `type`; with a DNS challenge.
bool usesChallenge(const Settings& s, ChallengeType type);
bool usesDnsChallenge(const Settings& s);

// Settings that are valid but likely not to work as meant, each as one line for
// check-config: IP addresses for Let's Encrypt without its shortlived profile.
std::vector<std::string> settingsWarnings(const Settings& s);
// "SIGHUP" for SIGHUP; signalNumber takes "HUP" or "SIGHUP".
std::string signalName(int sig);
std::optional<int> signalNumber(std::string name);

}  // namespace sc
