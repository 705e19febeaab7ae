#include "alert/conditions.h"

#include <array>
#include <utility>

#include "core/duration.h"
#include "core/time_format.h"

namespace sc::alert {
namespace {

constexpr std::array<std::pair<Condition, const char*>, 6> kNames = {{
    {Condition::NoValidCertificate, "no_valid_certificate"},
    {Condition::SelfSigned, "self_signed"},
    {Condition::RenewalFailing, "renewal_failing"},
    {Condition::UserCertExpiring, "user_cert_expiring"},
    {Condition::ReloadFailing, "reload_failing"},
    {Condition::RenewalAtRisk, "renewal_at_risk"},
}};

std::chrono::seconds left(TimePoint notAfter, TimePoint now) {
  return std::chrono::duration_cast<std::chrono::seconds>(notAfter - now);
}

std::string expiresIn(TimePoint notAfter, TimePoint now) {
  return "expires on " + formatTime(notAfter) + " (in " + formatDuration(left(notAfter, now)) + ")";
}

Observation begin(Condition c, Severity s) {
  Observation o;
  o.condition = c;
  o.severity = s;
  return o;
}

std::string orCopyYourOwn(const LineageFacts& f) {
  return "or copy your own key, certificate and chain into live/" + f.name + "/";
}

Observation noValidCertificate(const LineageFacts& f, const Policy& p) {
  Observation o = begin(Condition::NoValidCertificate, Severity::Critical);
  o.fireAfter = p.after;
  o.lastError = f.caLastError;
  if (!f.served) {
    o.summary = "no certificate is in place in live/" + f.name + "/";
    o.advice = "the log says why (no_valid_certificate events): a volume that cannot be written, most often";
  } else {
    o.summary = "the " + f.source + " certificate in live/" + f.name + "/ cannot serve: " + f.problem;
    o.advice = f.acme ? "sidecert keeps asking the CA; its last error is below, " + orCopyYourOwn(f)
                      : "ACME is off (SIDECERT_ACME_DIRECTORY=none): copy a valid set into live/" + f.name + "/";
  }
  return o;
}

Observation selfSigned(const LineageFacts& f, const Policy& p) {
  Observation o = begin(Condition::SelfSigned, Severity::Critical);
  // A fresh volume serves the fallback for the seconds its first order takes: only
  // one that lasts is trouble; one that replaced a CA's certificate is at once.
  o.fireAfter = f.fellBack ? std::chrono::seconds(0) : p.after;
  o.lastError = f.caLastError;
  o.summary = "live/" + f.name + "/ serves the self-signed fallback: browsers and API clients will not trust it";
  o.advice = f.acme ? "sidecert keeps asking the CA (the log's order_failed events say when); fix what its last "
                      "error below names, " + orCopyYourOwn(f)
                    : "ACME is off (SIDECERT_ACME_DIRECTORY=none): copy your own key, certificate and chain into live/" +
                          f.name + "/, or turn ACME on";
  return o;
}

Observation renewalFailing(const LineageFacts& f, TimePoint now) {
  Observation o = begin(Condition::RenewalFailing, Severity::Warning);
  o.summary = "renewal has failed " + std::to_string(f.caFailures) + " time" + (f.caFailures == 1 ? "" : "s") +
              " in a row; the certificate " + expiresIn(f.notAfter, now);
  o.lastError = f.caLastError;
  o.advice = "fix what the CA's last error below names; sidecert retries on its own after 1m, 10m, 1h, 6h, then "
             "daily (a restart does not skip the wait), " + orCopyYourOwn(f);
  return o;
}

Observation userCertExpiring(const LineageFacts& f, TimePoint now) {
  Observation o = begin(Condition::UserCertExpiring, Severity::Warning);
  o.summary = "your certificate in live/" + f.name + "/ " + expiresIn(f.notAfter, now);
  if (f.heldReady)
    o.advice = "an ACME certificate is ready and takes over when yours expires; copy in a renewed set to keep yours";
  else if (f.acme)
    o.advice = "copy in a renewed key, certificate and chain; if you do not, sidecert asks the CA for one when yours "
               "expires";
  else
    o.advice = "copy in a renewed key, certificate and chain; if you do not, the self-signed fallback takes over when "
               "yours expires";
  return o;
}

Observation reloadFailing(const LineageFacts& f) {
  Observation o = begin(Condition::ReloadFailing, Severity::Critical);
  o.summary = "the gateway reload failed " + std::to_string(f.reloadFailures) + " times in a row: " + f.reloadError;
  o.advice = "the gateway keeps serving its old certificate until a reload succeeds; check the reload action "
             "(SIDECERT_RELOAD) and that the gateway runs. sidecert retries every minute";
  return o;
}

Observation renewalAtRisk(const LineageFacts& f, TimePoint now) {
  Observation o = begin(Condition::RenewalAtRisk, Severity::Critical);
  o.summary = "the certificate in live/" + f.name + "/ " + expiresIn(f.notAfter, now) +
              ", before any CA may be asked again (at " + formatTime(*f.orderAllowedAt) + "): " + f.atRiskWhy;
  o.lastError = f.caLastError;
  o.advice = "raise SIDECERT_ORDER_BUDGET if the budget is spent, fix what the CA's last error below names, " +
             orCopyYourOwn(f);
  return o;
}

}  // namespace

const char* conditionName(Condition c) {
  for (const auto& [k, name] : kNames)
    if (k == c) return name;
  return "unknown";
}

std::optional<Condition> conditionFrom(const std::string& name) {
  for (const auto& [k, n] : kNames)
    if (name == n) return k;
  return std::nullopt;
}

const char* severityName(Severity s) { return s == Severity::Critical ? "critical" : "warning"; }

std::vector<Observation> observe(const LineageFacts& f, const Policy& p, TimePoint now) {
  std::vector<Observation> out;
  if (!f.served || (f.source != "self-signed" && !f.problem.empty())) out.push_back(noValidCertificate(f, p));
  if (f.served && f.source == "self-signed") out.push_back(selfSigned(f, p));
  if (f.served && f.problem.empty() && f.source == "acme" && f.caFailures > 0) {
    auto within = p.expiryWithin ? *p.expiryWithin : f.margin / 2;
    if (left(f.notAfter, now) <= within) out.push_back(renewalFailing(f, now));
  }
  if (f.served && f.problem.empty() && f.source == "user" && left(f.notAfter, now) <= f.margin)
    out.push_back(userCertExpiring(f, now));
  if (f.reloadFailures >= kReloadFailuresToAlert) out.push_back(reloadFailing(f));
  if (f.served && f.problem.empty() && f.orderAllowedAt) out.push_back(renewalAtRisk(f, now));
  return out;
}

}  // namespace sc::alert
