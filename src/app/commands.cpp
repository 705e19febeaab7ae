#include "app/commands.h"
#include "app/discovery.h"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <thread>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/URI.h>
#include <Poco/Version.h>
#include <openssl/crypto.h>
#include <spdlog/version.h>
#include <yaml-cpp/yaml.h>

#include "app/monitor.h"
#include "app/pass_pool.h"
#include "app/supervisor.h"
#include "app/wiring.h"
#include "config/load.h"
#include "core/duration.h"
#include "core/time_format.h"
#include "log/log.h"
#include "net/curl_transport.h"
#include "renew/order_budget.h"
#include "renew/renewal.h"
#include "store/pace_file.h"
#include "store/revocation_marks.h"

namespace sc::app {
namespace {

// How long `once` waits for a running supervisor's pass to finish.
constexpr std::chrono::seconds kOnceLockWait{10};

Result<Settings> settingsFor(const CommandLine& cl) {
  auto env = processEnvironment();
  std::optional<std::string> file = cl.configFile;
  if (!file && env.count("SIDECERT_CONFIG") && !env["SIDECERT_CONFIG"].empty()) file = env["SIDECERT_CONFIG"];
  return loadSettings(file, env, hostName());
}

int usageError(const std::string& message) {
  std::cerr << "sidecert: " << message << "\n";
  return kExitUsage;
}

int version() {
  std::cout << "sidecert " << SIDECERT_VERSION << "\n"
            << "  " << OpenSSL_version(OPENSSL_VERSION) << "\n"
            << "  Poco " << (POCO_VERSION >> 24) << "." << ((POCO_VERSION >> 16) & 0xff) << "."
            << ((POCO_VERSION >> 8) & 0xff) << "\n"
            << "  spdlog " << SPDLOG_VER_MAJOR << "." << SPDLOG_VER_MINOR << "." << SPDLOG_VER_PATCH << "\n"
            << "  " << net::curlDescription() << "\n";
  return kExitOk;
}

// Port 80 bound, every capability but those used given up, then the responder
// answering: what a pass outside the supervisor needs. A responder that cannot
// bind is logged, not fatal: the pass still keeps a set in place.
Status readyForAPass(Runtime& rt) {
  auto bound = rt.bindResponder();
  if (auto ok = rt.dropPrivileges(); !ok) return ok;
  if (auto ok = bound ? rt.startResponder() : bound; !ok)
    log::error("responder_failed", {{"error", ok.error().message}});
  return {};
}

// What is live right now, read as a gateway would read it; writes nothing.
struct Observed {
  std::optional<LiveStatus> live;
  store::LineageState state;
  std::optional<TimePoint> orderAt;  // waiting its turn at a CA account's pace: ordered then
};

Observed observe(store::Volume& volume, store::StateStore& states, const Settings& settings,
                 const CertificateSpec& spec, TimePoint now) {
  Observed o;
  o.state = states.load();
  for (const auto& url : settings.acmeDirectories) {
    auto waiting = store::PaceFile(volume.fileSystem(), settings.stateDir, url).load({}, now).record.waiting;
    if (auto it = waiting.find(spec.name); it != waiting.end() && it->second > now) o.orderAt = it->second;
  }
  auto view = volume.inspect();
  if (!view || view->link == store::LiveView::Link::Missing) return o;
  bool ours = view->link == store::LiveView::Link::Ours && view->foreign.empty() && view->missing.empty();
  store::SetRecord record{ours ? view->set->id : "", ours ? view->set->source : store::Source::User};
  store::CertFiles files;
  for (const char* f : store::kSetFiles) fileOf(files, f) = volume.readLiveFile(f).value_or("");
  auto parsed = sources::parseFiles(files);
  Policy policy = policyFrom(settings, spec);
  bool user = record.source == store::Source::User;
  std::string problem = parsed ? sources::unusableReason(*parsed, user ? policy.requiredNames : policy.names, now,
                                                         user ? std::chrono::seconds(0) : sources::kIssuedClockSkew)
                               : parsed.error().message;
  if (!ours && problem.empty()) problem = "user files not yet checked by sidecert";
  o.live = describe(record, parsed ? std::optional(std::move(*parsed)) : std::nullopt, problem);
  return o;
}

int once(Runtime& rt) {
  if (rt.swarmMode()) {  // it would act beside the service's task, without its lease
    log::error("once_failed", {{"error", "once does not run with a swarm: reload action: the certbot service's "
                                         "task does this work under the swarm's lease (README, \"On a swarm of "
                                         "several nodes\"); use `run`"}});
    return kExitUsage;
  }
  if (auto ok = rt.prepareVolumes(); !ok) {
    log::error("startup_failed", {{"error", ok.error().message}});
    return kExitNoCertificate;
  }
  auto deadline = std::chrono::steady_clock::now() + kOnceLockWait;
  auto lock = store::VolumeLock::tryAcquire(rt.fs, rt.settings.stateDir);
  while (!lock && lock.error().code == EWOULDBLOCK && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    lock = store::VolumeLock::tryAcquire(rt.fs, rt.settings.stateDir);
  }
  if (!lock) {
    log::error("once_failed", {{"error", lock.error().message}});
    return kExitNoCertificate;
  }
  if (auto ok = readyForAPass(rt); !ok) {
    log::error("once_failed", {{"error", ok.error().message}});
    return kExitNoCertificate;
  }
  // The lineages' passes at once, as the supervisor runs them.
  {
    SystemTime time;
    auto pool = PassPool::start(std::min(kConcurrentPasses, rt.lineages.size()), time);
    if (!pool) {
      log::error("once_failed", {{"error", pool.error().message}});
      return kExitNoCertificate;
    }
    for (std::size_t i = 0; i < rt.lineages.size(); ++i) (*pool)->submit(i, *rt.lineages[i]->lineage);
    for (std::size_t done = 0; done < rt.lineages.size() && !rt.stop.requested();) {
      pollfd fds[2] = {{(*pool)->fd(), POLLIN, 0}, {rt.stop.fd(), POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0 && errno != EINTR) break;
      for (const auto& finished : (*pool)->takeFinished()) {
        rt.lineages[finished.first]->transport.release();  // back to the pool for the next lineage
        ++done;
      }
    }
  }
  int exit = kExitOk;
  for (auto& l : rt.lineages) {
    // What the gateway reads now, not what the pass meant to put there: a publish
    // that failed leaves live/ as it was, perhaps empty.
    Observed seen = observe(l->volume, l->state, rt.settings, l->spec, wallClockNow());
    if (!seen.live || !seen.live->problem.empty()) {
      std::cout << "no valid certificate in " << (rt.settings.volume / "live" / l->name()).string() << "\n";
      exit = kExitNoCertificate;
      continue;
    }
    std::cout << seen.live->source << " certificate for " << sources::joinNames(seen.live->names)
              << " in place, valid until " << formatTime(seen.live->notAfter) << "\n";
  }
  return rt.stop.requested() ? kExitNoCertificate : exit;
}

// Per CA: what the order budget and the failure backoff allow, and when.
Poco::JSON::Object ordersJson(const store::LineageState& state, const renew::OrderBudget& budget, TimePoint now) {
  Poco::JSON::Object out(Poco::JSON_PRESERVE_KEY_ORDER);
  for (const auto& [ca, ledger] : state.ledgers) {
    if (ca.rfind("https://", 0) != 0) continue;  // the self-signed fallback places no orders
    auto gate = renew::orderGate(ledger, budget, now);
    Poco::JSON::Object o(Poco::JSON_PRESERVE_KEY_ORDER);
    auto recent = std::count_if(ledger.orders.begin(), ledger.orders.end(), [&](TimePoint t) { return t > now - budget.window; });
    o.set("orders_in_window", static_cast<Poco::Int64>(recent));
    o.set("budget", std::to_string(budget.orders) + "/" + formatDuration(budget.window));
    o.set("failures", ledger.failures);
    o.set("last_error", ledger.lastError);
    o.set("next_order_at", formatTime(gate.notBefore));
    if (!gate.allowed) o.set("waiting_because", gate.why);
    if (state.pendingOrder && state.pendingOrder->ca == ca) o.set("open_order", state.pendingOrder->url);
    out.set(ca, o);
  }
  return out;
}

// A DNS challenge's records as the running sidecert last knew them: dns-persist-01's
// with whether each was seen, dns-01's while added and not yet removed.
Poco::JSON::Array dnsRecordsJson(const std::vector<store::DnsRecord>& records) {
  Poco::JSON::Array out;
  for (const auto& r : records) {
    Poco::JSON::Object o(Poco::JSON_PRESERVE_KEY_ORDER);
    if (!r.domain.empty()) o.set("domain", r.domain);
    o.set("record", r.name);
    o.set("type", std::string("TXT"));
    o.set("value", r.value);
    if (r.seen) o.set("seen", *r.seen);
    if (r.since) o.set("since", formatTime(*r.since));
    if (!r.zone.empty()) o.set("zone", r.zone);
    if (!r.server.empty()) o.set("server", r.server);
    out.add(o);
  }
  return out;
}

Poco::JSON::Object lineageJson(const Settings& settings, const CertificateSpec& spec, const Observed& o,
                               const std::vector<store::DnsRecord>& records, TimePoint now) {
  bool healthy = o.live && o.live->problem.empty();
  Poco::JSON::Object obj(Poco::JSON_PRESERVE_KEY_ORDER);
  obj.set("name", spec.name);
  obj.set("path", (settings.volume / "live" / spec.name).string());
  obj.set("from", spec.origin);
  obj.set("healthy", healthy);
  if (o.live) {
    Poco::JSON::Array names;
    for (const auto& n : o.live->names) names.add(n);
    obj.set("source", o.live->source);
    obj.set("names", names);
    obj.set("issuer", o.live->issuer);
    obj.set("serial", o.live->serial);
    obj.set("not_before", formatTime(o.live->notBefore));
    obj.set("not_after", formatTime(o.live->notAfter));
    obj.set("days_left", static_cast<Poco::Int64>(std::chrono::duration_cast<std::chrono::hours>(o.live->notAfter - now).count() / 24));
    if (!o.live->problem.empty()) obj.set("problem", o.live->problem);
  } else {
    obj.set("source", Poco::Dynamic::Var());
    obj.set("problem", std::string("no certificate in the volume"));
  }
  obj.set("next_check", o.state.nextCheck ? Poco::Dynamic::Var(formatTime(*o.state.nextCheck)) : Poco::Dynamic::Var());
  if (o.orderAt) obj.set("order_at", formatTime(*o.orderAt));
  obj.set("orders", ordersJson(o.state, {settings.orderBudget, settings.orderWindow}, now));
  obj.set("challenge", std::string(challengeTypeName(spec.challenge)));
  if (isDnsChallenge(spec.challenge)) obj.set("dns_records", dnsRecordsJson(records));
  return obj;
}

void printLineage(const Settings& settings, const CertificateSpec& spec, const Observed& o, TimePoint now) {
  auto path = (settings.volume / "live" / spec.name).string();
  if (!o.live) {
    std::cout << "no certificate in " << path << "\n";
    return;
  }
  auto days = std::chrono::duration_cast<std::chrono::hours>(o.live->notAfter - now).count() / 24;
  std::cout << "name        " << spec.name << " (" << path << ")\n"
            << "from        " << spec.origin << "\n"
            << "source      " << o.live->source << "\n"
            << "names       " << sources::joinNames(o.live->names) << "\n"
            << "issuer      " << o.live->issuer << "\n"
            << "serial      " << o.live->serial << "\n"
            << "not_before  " << formatTime(o.live->notBefore) << "\n"
            << "not_after   " << formatTime(o.live->notAfter) << " (" << days << " days left)\n"
            << "next_check  " << (o.state.nextCheck ? formatTime(*o.state.nextCheck) : "-") << "\n"
            << (o.orderAt ? "order_at    " + formatTime(*o.orderAt) + " (its turn at the CA account's pace)\n" : "")
            << "state       " << (o.live->problem.empty() ? "valid" : "NOT VALID: " + o.live->problem) << "\n";
}

// The lineages a command is about: all, or the one --name says.
Result<std::vector<CertificateSpec>> chosen(const Settings& settings, const std::optional<std::string>& name) {
  if (!name) return settings.certificates;
  for (const auto& c : settings.certificates)
    if (c.name == *name) return std::vector<CertificateSpec>{c};
  std::string known;
  for (const auto& c : settings.certificates) known += (known.empty() ? "" : ", ") + c.name;
  return fail("--name: no certificate is named '" + *name + "' (configured: " + known + ")");
}

// Reads the volume and the state, nothing more: the image's HEALTHCHECK runs it
// every 15 s, so it builds no runtime (no libcurl, no responder, no reloader).
// One lineage prints as it always did; several as a list, healthy only if all are.
int status(const Settings& settings, const std::vector<CertificateSpec>& specs, bool json) {
  store::PosixFileSystem fs({settings.volume, settings.stateDir});
  TimePoint now = wallClockNow();
  bool healthy = true;
  std::vector<Poco::JSON::Object> objects;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    store::Volume volume(fs, settings.volume, settings.stateDir, specs[i].name);
    store::StateStore states(fs, settings.stateDir, specs[i].name);
    Observed o = observe(volume, states, settings, specs[i], now);
    healthy = healthy && o.live && o.live->problem.empty();
    if (json) {
      std::vector<store::DnsRecord> records;
      if (isDnsChallenge(specs[i].challenge))
        records = store::DnsRecordFile(fs, settings.stateDir, dnsRecordFileName(specs[i])).load();
      objects.push_back(lineageJson(settings, specs[i], o, records, now));
    } else {
      if (i > 0) std::cout << "\n";
      printLineage(settings, specs[i], o, now);
    }
  }
  if (!json && settings.discover.on()) printRetired(settings);
  if (json) {
    if (objects.size() == 1 && !settings.discover.on()) {
      objects.front().stringify(std::cout);
    } else {
      Poco::JSON::Array all;
      for (const auto& o : objects) all.add(o);
      Poco::JSON::Object obj(Poco::JSON_PRESERVE_KEY_ORDER);
      obj.set("healthy", healthy);
      obj.set("lineages", all);
      if (settings.discover.on()) obj.set("retired", retiredJson(settings));
      obj.stringify(std::cout);
    }
    std::cout << "\n";
  }
  return healthy ? kExitOk : kExitNoCertificate;
}

Result<int> revocationReason(const std::optional<std::string>& text) {
  // RFC 5280 5.3.1 codes that a subscriber may give (Let's Encrypt accepts these).
  static const std::map<std::string, int> names = {{"unspecified", 0}, {"keyCompromise", 1},
                                                   {"affiliationChanged", 3}, {"superseded", 4},
                                                   {"cessationOfOperation", 5}};
  if (!text) return 0;
  for (const auto& [name, code] : names)
    if (*text == name || *text == std::to_string(code)) return code;
  return fail("--reason: '" + *text + "' is not a revocation reason (0 unspecified, 1 keyCompromise, "
              "3 affiliationChanged, 4 superseded, 5 cessationOfOperation)");
}

int revoke(Runtime& rt, LineageRuntime& l, int reason) {
  auto view = l.volume.inspect();
  if (!view || view->link != store::LiveView::Link::Ours || view->set->source != store::Source::Acme) {
    std::cerr << "sidecert: the live certificate in " << (rt.settings.volume / "live" / l.name()).string()
              << " is not one sidecert obtained from an ACME CA: nothing to revoke\n";
    return kExitNoCertificate;
  }
  auto files = l.volume.readSet(view->set->id);
  if (!files) {
    log::error("revoke_failed", {{"name", l.name()}, {"error", files.error().message}});
    return kExitNoCertificate;
  }
  auto serial = sources::parseFiles(*files);
  std::string lastError = "no ACME CA is configured";
  for (auto& ca : l.acme) {
    auto ok = ca->revoke(*files, reason);
    if (!ok) {
      lastError = ok.error().message;
      continue;
    }
    log::info("cert_revoked", {{"name", l.name()},
                               {"serial", serial ? serial->leaf.serialHex() : "?"},
                               {"ca", ca->id()},
                               {"reason", reason}});
    store::RevocationMarks marks(l.volume.fileSystem(), l.volume.layout());
    if (auto marked = marks.mark(view->set->id, wallClockNow()); !marked)
      log::error("revoke_not_recorded", {{"error", marked.error().message}});
    // A running supervisor replaces it now; with none running, we do.
    if (auto pid = store::VolumeLock::holder(rt.fs, rt.settings.stateDir)) {
      ::kill(*pid, SIGHUP);
    } else if (auto lock = store::VolumeLock::tryAcquire(rt.fs, rt.settings.stateDir)) {
      if (auto ok = readyForAPass(rt); ok) l.lineage->pass(wallClockNow());
      else log::error("revoke_failed", {{"name", l.name()}, {"error", ok.error().message}});
    }
    std::cout << "revoked " << (serial ? serial->leaf.serialHex() : "") << "\n";
    if (l.spec.challenge == ChallengeType::DnsPersist01)  // revoking the certificate leaves the record's grant
      std::cout << "# the ACME account can still issue for these names while its _validation-persist record stands;\n"
                   "# to rotate the account: stop sidecert, remove accounts/ from the state folder, run\n"
                   "# 'sidecert dns-record' and put the record it prints in place of the old one\n";
    return kExitOk;
  }
  log::error("revoke_failed", {{"name", l.name()}, {"error", lastError}});
  return kExitNoCertificate;
}

// One test message through every configured channel, each tried even when one fails.
int testAlert(const Settings& settings) {
  auto channels = alertChannels(settings, -1);
  if (!channels) return usageError(channels.error().message);
  if (channels->empty())
    return usageError("test-alert: no alert channel is configured (SIDECERT_SMTP_URL, SIDECERT_ALERT_WEBHOOK)");
  auto message = alert::testMessage(hostName(), wallClockNow());
  std::vector<std::string> failed;
  for (auto& c : *channels) {
    auto sent = c->send(message);
    if (sent) {
      std::cout << c->name() << ": delivered\n";
      log::info("alert_sent", {{"channel", c->name()}, {"notice", "test"}});
    } else {
      std::cout << c->name() << ": FAILED: " << sent.error().message << "\n";
      log::error("alert_not_delivered", {{"channel", c->name()}, {"notice", "test"}, {"error", sent.error().message}});
      failed.push_back(c->name());
    }
  }
  if (failed.empty()) return kExitOk;
  std::string names;
  for (const auto& f : failed) names += (names.empty() ? "" : ", ") + f;
  std::cerr << "sidecert: test-alert: not delivered through " << names << "\n";
  return kExitNoCertificate;
}

}  // namespace

int runCommand(const CommandLine& cl) {
  if (cl.command == "help") {
    std::cout << usage();
    return kExitOk;
  }
  if (cl.command == "version") return version();
  auto settings = settingsFor(cl);
  if (!settings) return usageError(settings.error().message);
  log::setup(settings->logFormat, settings->logLevel);
  if (cl.command == "check-config") {
    if (auto p = publishingFrom(*settings); !p) return usageError(p.error().message);
    return checkConfig(*settings);
  }
  if (cl.command == "test-alert") return testAlert(*settings);
  addRememberedLineages(*settings);
  auto specs = chosen(*settings, cl.name);
  if (!specs) return usageError(specs.error().message);
  if (cl.command == "status") return status(*settings, *specs, cl.json);
  // `run` keeps only the runtime's copy of the specs (10,000 lineages: about 1 KiB each
  // for the life of the process): its list here goes, and the settings move in.
  if (cl.command == "run") std::vector<CertificateSpec>().swap(*specs);
  auto rt = buildRuntime(std::move(*settings));
  if (!rt) return usageError(rt.error().message);
  if (cl.command == "once") return once(**rt);
  if (cl.command == "dns-record") return dnsRecord(**rt, *specs);
  if (cl.command == "run") {
    SystemTime time;
    return Supervisor(**rt, time).run();
  }
  auto reason = revocationReason(cl.reason);
  if (!reason) return usageError(reason.error().message);
  if (specs->size() != 1)
    return usageError("revoke: " + std::to_string(specs->size()) +
                      " certificates are configured; say which with --name NAME");
  for (auto& l : (*rt)->lineages)
    if (l->name() == specs->front().name) return revoke(**rt, *l, *reason);
  return usageError("revoke: no certificate named " + specs->front().name);
}

}  // namespace sc::app
