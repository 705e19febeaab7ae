#include "app/monitor.h"

#include "log/log.h"
#include "net/alert_channels.h"

namespace sc::app {
namespace {

alert::LineageFacts alertFacts(const LineageRuntime& l, const PassResult& r, bool acme) {
  alert::LineageFacts f;
  f.name = l.name();
  f.served = r.live.has_value();
  if (r.live) {
    f.source = r.live->source;
    f.problem = r.live->problem;
    f.notAfter = r.live->notAfter;
  }
  f.margin = r.margin;
  f.acme = acme;
  f.caFailures = r.caFailures;
  f.caLastError = r.caLastError;
  f.heldReady = r.heldReady;
  f.fellBack = r.fellBack;
  f.reloadFailures = r.reloadFailures;
  f.reloadError = r.reloadError;
  if (r.atRisk) {
    f.orderAllowedAt = r.atRisk->orderAllowedAt;
    f.atRiskWhy = r.atRisk->why;
  }
  return f;
}

metrics::LineageSample sampleOf(const LineageRuntime& l, const PassResult& r) {
  metrics::LineageSample s;
  s.name = l.name();
  if (r.live) {
    s.source = r.live->source;
    s.valid = r.live->problem.empty();
    s.notBefore = r.live->notBefore;
    s.notAfter = r.live->notAfter;
  }
  s.lastIssuance = r.lastIssuance;
  s.lastAttempt = r.lastAttempt;
  s.consecutiveFailures = r.caFailures;
  s.nextCheck = r.nextCheck;
  s.failedAttempts = r.failedAttempts;
  s.reloads = r.reloaded ? 1 : 0;
  s.reloadFailures = r.reloadFailed ? 1 : 0;
  return s;
}

}  // namespace

Result<std::vector<std::unique_ptr<alert::Channel>>> alertChannels(const Settings& settings, int stopFd) {
  std::vector<std::unique_ptr<alert::Channel>> out;
  if (settings.alerts.mail()) {
    auto mail = net::mailChannel(settings.alerts, stopFd);
    if (!mail) return std::unexpected(mail.error());
    out.push_back(std::move(*mail));
  }
  if (!settings.alerts.webhook.empty()) {
    auto hook = net::webhookChannel(settings.alerts, stopFd);
    if (!hook) return std::unexpected(hook.error());
    out.push_back(std::move(*hook));
  }
  return out;
}

Result<std::unique_ptr<Monitor>> Monitor::create(Runtime& rt, const TimeSource& clock) {
  std::unique_ptr<Monitor> m(new Monitor);
  const Settings& s = rt.settings;
  m->settings_ = &s;
  auto tokens = rt.tokens;
  m->registry_ = std::make_shared<metrics::Registry>(SIDECERT_VERSION, [tokens] {
    using A = http01::TokenStore::Answer;
    return metrics::ResponderCounts{tokens->answered(A::Served), tokens->answered(A::NotFound),
                                    tokens->answered(A::BadRequest), tokens->answered(A::TooLarge),
                                    tokens->answered(A::Dropped)};
  });
  if (s.metricsListen) {
    auto server = metrics::Server::bind(*s.metricsListen, m->registry_);
    if (server)
      m->server_ = std::move(*server);
    else
      log::error("metrics_failed", {{"error", server.error().message}, {"effect", "no /metrics until a restart"}});
  }
  if (s.alerts.any()) {
    auto channels = alertChannels(s, rt.stop.fd());
    if (!channels) return std::unexpected(channels.error());
    std::vector<std::string> names;
    for (const auto& c : s.certificates) names.push_back(c.name);
    alert::Policy policy{s.alerts.after, s.alerts.expiryWithin, s.alerts.remind};
    m->center_ = std::make_unique<alert::Center>(policy, std::move(*channels), alert::RecordFile(rt.fs, s.stateDir),
                                                 names, hostName(), clock);
    m->center_->onDelivery([registry = m->registry_](const std::string& channel, bool ok) {
      registry->alertDelivery(channel, ok);
    });
  }
  return m;
}

void Monitor::start() {
  if (server_) {
    server_->start();
    log::info("metrics_listening", {{"address", settings_->metricsListen->describe()}, {"path", "/metrics"}});
  }
  if (center_) center_->start();
}

void Monitor::passEnded(const LineageRuntime& lineage, const PassResult& result) {
  registry_->passEnded(sampleOf(lineage, result));
  if (center_) center_->update(alertFacts(lineage, result, !settings_->acmeDirectories.empty()));
}

void Monitor::lineageRetired(const std::string& name) {
  registry_->forget(name);
  if (center_) center_->forget(name);
}

Monitor::~Monitor() {
  if (center_) center_->stop();
  if (server_) server_->stop();
}

}  // namespace sc::app
