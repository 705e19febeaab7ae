#include "metrics/registry.h"

#include <iomanip>
#include <iterator>
#include <sstream>

#include "core/time_format.h"

namespace sc::metrics {
namespace {

// A label value as the text format wants it: backslash, quote and newline escaped.
std::string escaped(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

class Writer {
 public:
  Writer() { out_ << std::setprecision(17); }  // seconds since 1970 whole, not 1.7e+09
  // One metric family: its HELP and TYPE, then its samples.
  void family(const char* name, const char* type, const char* help) {
    out_ << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
    name_ = name;
  }
  void sample(const std::map<std::string, std::string>& labels, double value) {
    out_ << name_;
    if (!labels.empty()) {
      out_ << "{";
      bool first = true;
      for (const auto& [k, v] : labels) {
        out_ << (first ? "" : ",") << k << "=\"" << escaped(v) << "\"";
        first = false;
      }
      out_ << "}";
    }
    out_ << " " << value << "\n";
  }
  std::string text() const { return out_.str(); }

 private:
  std::ostringstream out_;
  std::string name_;
};

// The sources /metrics names, in the order a lineage's record counts them.
constexpr const char* kSources[] = {"user", "acme", "self-signed"};

std::int8_t sourceIndex(const std::string& source) {
  for (std::size_t i = 0; i < std::size(kSources); ++i)
    if (source == kSources[i]) return static_cast<std::int8_t>(i);
  return -1;
}

std::int64_t unixOrNone(const std::optional<TimePoint>& t, std::int64_t none) { return t ? toUnixSeconds(*t) : none; }

}  // namespace

void Registry::forget(const std::string& lineage) {
  std::lock_guard lock(mutex_);
  lineages_.erase(lineage);
}

void Registry::passEnded(const LineageSample& sample) {
  std::lock_guard lock(mutex_);
  auto& l = lineages_[sample.name];
  constexpr std::int64_t none = Lineage::kNone;
  l.notBefore = unixOrNone(sample.notBefore, none);
  l.notAfter = unixOrNone(sample.notAfter, none);
  l.lastIssuance = unixOrNone(sample.lastIssuance, none);
  l.lastAttempt = unixOrNone(sample.lastAttempt, none);
  l.nextCheck = toUnixSeconds(sample.nextCheck);
  l.consecutiveFailures = sample.consecutiveFailures;
  l.source = sourceIndex(sample.source);
  l.valid = sample.valid;
  l.failures += static_cast<std::uint64_t>(sample.failedAttempts);
  l.reloads += static_cast<std::uint64_t>(sample.reloads);
  l.reloadFailures += static_cast<std::uint64_t>(sample.reloadFailures);
}

void Registry::alertDelivery(const std::string& channel, bool delivered) {
  std::lock_guard lock(mutex_);
  auto& [ok, failed] = alerts_[channel];
  ++(delivered ? ok : failed);
}

std::string Registry::render() const {
  std::lock_guard lock(mutex_);
  Writer w;
  w.family("sidecert_build_info", "gauge", "sidecert's version; always 1.");
  w.sample({{"version", version_}}, 1);

  auto perLineage = [&](const char* name, const char* type, const char* help, auto value) {
    w.family(name, type, help);
    for (const auto& [n, l] : lineages_)
      if (auto v = value(l)) w.sample({{"lineage", n}}, *v);
  };
  using Opt = std::optional<double>;
  auto time = [](std::int64_t t) { return t == Lineage::kNone ? Opt() : Opt(static_cast<double>(t)); };
  perLineage("sidecert_certificate_expiry_timestamp_seconds", "gauge",
             "When the live certificate expires (notAfter), in seconds since 1970.",
             [&](const Lineage& l) { return time(l.notAfter); });
  perLineage("sidecert_certificate_not_before_timestamp_seconds", "gauge",
             "When the live certificate became valid (notBefore), in seconds since 1970.",
             [&](const Lineage& l) { return time(l.notBefore); });
  perLineage("sidecert_certificate_valid", "gauge",
             "1 when the live certificate can serve its names now, 0 when not (or none is in place).",
             [](const Lineage& l) { return Opt(l.valid ? 1 : 0); });
  w.family("sidecert_certificate_source", "gauge",
           "1 for the source of the live certificate (user, acme, self-signed), 0 for the others.");
  for (const auto& [n, l] : lineages_)
    for (std::size_t i = 0; i < std::size(kSources); ++i)
      w.sample({{"lineage", n}, {"source", kSources[i]}}, l.source == static_cast<std::int8_t>(i) ? 1 : 0);
  perLineage("sidecert_last_issuance_timestamp_seconds", "gauge",
             "When a CA last issued a certificate for the lineage, in seconds since 1970.",
             [&](const Lineage& l) { return time(l.lastIssuance); });
  perLineage("sidecert_last_renewal_attempt_timestamp_seconds", "gauge",
             "When an order was last placed for the lineage, in seconds since 1970.",
             [&](const Lineage& l) { return time(l.lastAttempt); });
  perLineage("sidecert_renewal_consecutive_failures", "gauge",
             "Attempts at the CAs that failed in a row; 0 after a success.",
             [](const Lineage& l) { return Opt(l.consecutiveFailures); });
  perLineage("sidecert_renewal_failures_total", "counter", "Attempts at the CAs that failed, since start.",
             [](const Lineage& l) { return Opt(static_cast<double>(l.failures)); });
  perLineage("sidecert_next_check_timestamp_seconds", "gauge",
             "When the lineage is next looked at, in seconds since 1970.",
             [](const Lineage& l) { return Opt(static_cast<double>(l.nextCheck)); });
  perLineage("sidecert_reloads_total", "counter", "Gateway reloads carried out, since start.",
             [](const Lineage& l) { return Opt(static_cast<double>(l.reloads)); });
  perLineage("sidecert_reload_failures_total", "counter", "Gateway reloads that failed, since start.",
             [](const Lineage& l) { return Opt(static_cast<double>(l.reloadFailures)); });

  ResponderCounts r = responder_ ? responder_() : ResponderCounts{};
  w.family("sidecert_http01_requests_total", "counter",
           "Requests the HTTP-01 responder answered, by result: served (a token), not_found, bad_request, "
           "too_large.");
  w.sample({{"result", "served"}}, static_cast<double>(r.served));
  w.sample({{"result", "not_found"}}, static_cast<double>(r.notFound));
  w.sample({{"result", "bad_request"}}, static_cast<double>(r.badRequest));
  w.sample({{"result", "too_large"}}, static_cast<double>(r.tooLarge));
  w.family("sidecert_http01_connections_dropped_total", "counter",
           "Connections the HTTP-01 responder cut off: idle past its timeout, or the oldest when too many were open.");
  w.sample({}, static_cast<double>(r.dropped));
  w.family("sidecert_alerts_delivered_total", "counter", "Alert notices delivered, by channel.");
  for (const auto& [channel, counts] : alerts_) w.sample({{"channel", channel}}, static_cast<double>(counts.first));
  w.family("sidecert_alert_delivery_failures_total", "counter", "Alert deliveries that failed, by channel.");
  for (const auto& [channel, counts] : alerts_) w.sample({{"channel", channel}}, static_cast<double>(counts.second));
  return w.text();
}

}  // namespace sc::metrics
