// sidecert check-config: what the settings mean, said back without their secrets.
#include <cstdio>
#include <iostream>

#include <Poco/URI.h>

#include "app/account_paces.h"
#include "app/commands.h"
#include "app/discovery.h"
#include "app/wiring.h"
#include "core/duration.h"
#include "sources/cert_set.h"

namespace sc::app {
namespace {

std::string octal(unsigned mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", mode);
  return buf;
}

// Who owns the published files and their modes, as the gateway will find them.
std::string describeFiles(const Settings& s) {
  unsigned keyMode = s.keyMode.value_or(s.fileGroup.empty() ? 0600 : 0640);
  return "owner " + (s.fileOwner.empty() ? std::string("sidecert's (root)") : s.fileOwner) + "; privkey.pem and " +
         "combined.pem " + octal(keyMode) + (s.fileGroup.empty() ? "" : " group " + s.fileGroup) +
         "; cert.pem, chain.pem, fullchain.pem " + octal(s.certMode);
}

// Where alerts go, without the secrets: the relay's host, never the webhook's URL.
std::string describeAlerts(const AlertSettings& a) {
  if (!a.any()) return "off (no SIDECERT_SMTP_URL nor SIDECERT_ALERT_WEBHOOK)";
  std::string out;
  if (a.mail()) {
    std::string to;
    for (const auto& t : a.to) to += (to.empty() ? "" : ", ") + t;
    const char* tls = a.smtpTls == AlertSettings::SmtpTls::Implicit ? "tls"
                      : a.smtpTls == AlertSettings::SmtpTls::StartTls ? "starttls"
                                                                      : "none";
    out += "mail to " + to + " through " + Poco::URI(a.smtpUrl).getHost() + ":" + std::to_string(Poco::URI(a.smtpUrl).getPort()) + " (" + tls + ")";
  }
  if (!a.webhook.empty())
    out += std::string(out.empty() ? "" : "; ") + "webhook (" +
           (a.webhookFormat == AlertSettings::WebhookFormat::Ntfy ? "ntfy" : "json") + ") to " +
           Poco::URI(a.webhook).getHost();
  return out + "; after " + formatDuration(a.after) + " without a valid certificate, reminders every " +
         formatDuration(a.remind);
}

std::string webrootFolder(const Settings& s) {
  return (s.http01Webroot / ".well-known" / "acme-challenge").lexically_normal().string() + "/";
}

// How http-01 is answered: the responder, token files in the webroot, or both.
std::string describeHttp01(const Settings& s) {
  if (!usesChallenge(s, ChallengeType::Http01)) return "none: no certificate uses it, nothing listens";
  if (s.http01Webroot.empty()) return describeListen(s);
  return "token files in " + webrootFolder(s) + " (written atomically, 0644, removed after; the gateway serves them)" +
         (responderListens(s) ? "; also the responder on " + describeListen(s)
                              : "; the responder does not listen (SIDECERT_HTTP01_LISTEN not set)");
}

// How the lineage's names are proven and what that takes, without the TSIG secret.
std::string describeChallenge(const Settings& s, const CertificateSpec& c) {
  const auto& d = s.dns;
  std::string resolvers;
  for (const auto& r : d.resolvers) resolvers += (resolvers.empty() ? "" : ", ") + r;
  if (resolvers.empty()) resolvers = "/etc/resolv.conf's";
  switch (c.challenge) {
    case ChallengeType::Http01:
      if (s.http01Webroot.empty()) return "http-01 through the responder";
      return "http-01 through token files the gateway serves from " + webrootFolder(s) +
             (responderListens(s) ? ", and the responder" : "");
    case ChallengeType::DnsPersist01:
      return "dns-persist-01: a TXT record at _validation-persist.<domain> made once (sidecert dns-record prints it), "
             "looked up through " + resolvers + (d.persistIssuer.empty() ? "" : "; issuer " + d.persistIssuer);
    case ChallengeType::Dns01:
      return "dns-01: RFC 2136 updates to " + d.server + " of " +
             (d.zone.empty() ? std::string("each name's zone (found by SOA through ") + resolvers + ")" : "the zone " + d.zone) +
             (d.tsigKey.empty() ? ", unsigned" : ", signed with the TSIG key " + d.tsigKey + " (" + d.tsigAlgorithm + ")");
  }
  return "";
}

}  // namespace

int checkConfig(const Settings& s) {
  std::cout << "configuration is valid\n";
  for (const auto& c : s.certificates) {
    std::cout << "  lineage      " << c.name << " -> " << (s.volume / "live" / c.name).string() << "/\n"
              << "  names        " << sources::joinNames(c.domains)
              << (s.domainsFromHostname ? "  (none configured: this host's name)" : "") << "\n"
              << "  key type     " << keyTypeName(c.keyType) << (c.acmeProfile.empty() ? "" : ", profile " + c.acmeProfile)
              << "\n"
              << "  renew        "
              << (c.renewBefore ? "when less than " + formatDuration(*c.renewBefore) + " remains"
                                : std::string("when less than 30d, or a third of the lifetime, remains"))
              << "; check at least every " << formatDuration(s.checkInterval) << "\n"
              << "  reload       " << c.reload.describe() << "\n"
              << "  challenge    " << describeChallenge(s, c) << "\n";
  }
  std::cout << "  state        " << s.stateDir.string() << "/  (account keys, what sidecert wrote, backoff, lock)\n"
            << "  sources      user certificate in live/<name>/ if valid, then ";
  if (s.acmeDirectories.empty()) std::cout << "(ACME off), ";
  for (const auto& d : s.acmeDirectories) std::cout << "ACME " << d << ", ";
  std::cout << "then self-signed\n"
            << "  account      " << (s.email.empty() ? "(no contact email)" : s.email)
            << (s.eabKid.empty() ? "" : ", with External Account Binding") << "; one per CA, shared\n"
            << "  http-01      " << describeHttp01(s) << "\n"
            << "  orders       at most " << s.orderBudget << " per " << formatDuration(s.orderWindow)
            << " for each certificate at each CA; after a failure wait 1m, 10m, 1h, 6h, then daily\n"
            << "  account pace " << describePaceLimits(s) << "\n"
            << "  files        " << describeFiles(s) << "\n"
            << "  logs         " << (s.logFormat == LogFormat::Json ? "json" : "text") << "\n"
            << "  alerts       " << describeAlerts(s.alerts) << "\n"
            << "  metrics      " << (s.metricsListen ? s.metricsListen->describe() + "/metrics" : std::string("off"))
            << "\n"
            << "  discovery    " << describeDiscovery(s) << "\n";
  for (const auto& w : settingsWarnings(s)) std::cout << "warning: " << w << "\n";
  return kExitOk;
}

}  // namespace sc::app
