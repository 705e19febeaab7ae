#include <functional>

#include "config/value_parsing.h"

namespace sc::config {

namespace {

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

const std::vector<Setting>& alertSettings() {
  using namespace std::placeholders;
  static const std::vector<Setting> table = {
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
