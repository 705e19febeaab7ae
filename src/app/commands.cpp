#include "app/commands.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <thread>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/Version.h>
#include <openssl/crypto.h>
#include <spdlog/version.h>
#include <yaml-cpp/yaml.h>

#include "app/supervisor.h"
#include "app/wiring.h"
#include "config/load.h"
#include "core/duration.h"
#include "core/time_format.h"
#include "log/log.h"
#include "renew/order_budget.h"
#include "renew/renewal.h"

namespace sc::app {
namespace {

// How long `once` waits for a running supervisor's pass to finish.
constexpr std::chrono::seconds kOnceLockWait{10};

std::string hostName() {
  char buf[256] = {0};
  ::gethostname(buf, sizeof buf - 1);
  return buf;
}

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
            << "  spdlog " << SPDLOG_VER_MAJOR << "." << SPDLOG_VER_MINOR << "." << SPDLOG_VER_PATCH << "\n";
  return kExitOk;
}

int checkConfig(const Settings& s) {
  std::cout << "configuration is valid\n"
            << "  lineage      " << s.name << " -> " << (s.volume / "live" / s.name).string() << "/\n"
            << "  state        " << s.stateDir.string() << "/  (account keys, what sidecert wrote, backoff, lock)\n"
            << "  names        " << sources::joinNames(s.domains)
            << (s.domainsFromHostname ? "  (none configured: this host's name)" : "") << "\n"
            << "  key type     " << keyTypeName(s.keyType) << "\n"
            << "  sources      user certificate in live/" << s.name << "/ if valid, then ";
  if (s.acmeDirectories.empty()) std::cout << "(ACME off), ";
  for (const auto& d : s.acmeDirectories) std::cout << "ACME " << d << ", ";
  std::cout << "then self-signed\n"
            << "  account      " << (s.email.empty() ? "(no contact email)" : s.email)
            << (s.eabKid.empty() ? "" : ", with External Account Binding") << "\n"
            << "  http-01      " << describeListen(s) << "\n"
            << "  renew        "
            << (s.renewBefore ? "when less than " + formatDuration(*s.renewBefore) + " remains"
                              : std::string("when less than 30d, or a third of the lifetime, remains"))
            << "; check at least every " << formatDuration(s.checkInterval) << "\n"
            << "  orders       at most " << s.orderBudget << " per " << formatDuration(s.orderWindow)
            << " for this certificate at each CA; after a failure wait 1m, 10m, 1h, 6h, then daily\n"
            << "  reload       " << s.reload.describe() << "\n"
            << "  logs         " << (s.logFormat == LogFormat::Json ? "json" : "text") << "\n";
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
};

Observed observe(store::Volume& volume, store::StateStore& states, const Settings& settings, TimePoint now) {
  Observed o;
  o.state = states.load();
  auto view = volume.inspect();
  if (!view || view->link == store::LiveView::Link::Missing) return o;
  bool ours = view->link == store::LiveView::Link::Ours && view->foreign.empty() && view->missing.empty();
  store::SetRecord record{ours ? view->set->id : "", ours ? view->set->source : store::Source::User};
  store::CertFiles files;
  for (const char* f : store::kSetFiles) fileOf(files, f) = volume.readLiveFile(f).value_or("");
  auto parsed = sources::parseFiles(files);
  Policy policy = policyFrom(settings);
  bool user = record.source == store::Source::User;
  std::string problem = parsed ? sources::unusableReason(*parsed, user ? policy.requiredNames : policy.names, now,
                                                         user ? std::chrono::seconds(0) : sources::kIssuedClockSkew)
                               : parsed.error().message;
  if (!ours && problem.empty()) problem = "user files not yet checked by sidecert";
  o.live = describe(record, parsed ? std::optional(std::move(*parsed)) : std::nullopt, problem);
  return o;
}

int once(Runtime& rt) {
  if (auto ok = rt.volume.prepare(); !ok) {
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
  rt.lineage->pass(wallClockNow());
  // What the gateway reads now, not what the pass meant to put there: a publish
  // that failed leaves live/ as it was, perhaps empty.
  Observed seen = observe(rt.volume, rt.state, rt.settings, wallClockNow());
  if (!seen.live || !seen.live->problem.empty()) {
    std::cout << "no valid certificate in " << (rt.settings.volume / "live" / rt.settings.name).string() << "\n";
    return kExitNoCertificate;
  }
  std::cout << seen.live->source << " certificate for " << sources::joinNames(seen.live->names)
            << " in place, valid until " << formatTime(seen.live->notAfter) << "\n";
  return kExitOk;
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

// Reads the volume and the state, nothing more: the image's HEALTHCHECK runs it
// every 15 s, so it builds no runtime (no libcurl, no responder, no reloader).
int status(const Settings& settings, bool json) {
  store::PosixFileSystem fs({settings.volume, settings.stateDir});
  store::Volume volume(fs, settings.volume, settings.stateDir, settings.name);
  store::StateStore states(fs, settings.stateDir, settings.name);
  TimePoint now = wallClockNow();
  Observed o = observe(volume, states, settings, now);
  bool healthy = o.live && o.live->problem.empty();
  auto days = o.live ? std::chrono::duration_cast<std::chrono::hours>(o.live->notAfter - now).count() / 24 : 0;
  if (json) {
    Poco::JSON::Object obj(Poco::JSON_PRESERVE_KEY_ORDER);
    obj.set("name", settings.name);
    obj.set("path", (settings.volume / "live" / settings.name).string());
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
      obj.set("days_left", static_cast<Poco::Int64>(days));
      if (!o.live->problem.empty()) obj.set("problem", o.live->problem);
    } else {
      obj.set("source", Poco::Dynamic::Var());
      obj.set("problem", std::string("no certificate in the volume"));
    }
    obj.set("next_check", o.state.nextCheck ? Poco::Dynamic::Var(formatTime(*o.state.nextCheck)) : Poco::Dynamic::Var());
    obj.set("orders", ordersJson(o.state, policyFrom(settings).orderBudget, now));
    obj.stringify(std::cout);
    std::cout << "\n";
  } else if (!o.live) {
    std::cout << "no certificate in " << (settings.volume / "live" / settings.name).string() << "\n";
  } else {
    std::cout << "name        " << settings.name << " (" << (settings.volume / "live" / settings.name).string()
              << ")\n"
              << "source      " << o.live->source << "\n"
              << "names       " << sources::joinNames(o.live->names) << "\n"
              << "issuer      " << o.live->issuer << "\n"
              << "serial      " << o.live->serial << "\n"
              << "not_before  " << formatTime(o.live->notBefore) << "\n"
              << "not_after   " << formatTime(o.live->notAfter) << " (" << days << " days left)\n"
              << "next_check  " << (o.state.nextCheck ? formatTime(*o.state.nextCheck) : "-") << "\n"
              << "state       " << (healthy ? "valid" : "NOT VALID: " + o.live->problem) << "\n";
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

int revoke(Runtime& rt, int reason) {
  auto view = rt.volume.inspect();
  if (!view || view->link != store::LiveView::Link::Ours || view->set->source != store::Source::Acme) {
    std::cerr << "sidecert: the live certificate in " << (rt.settings.volume / "live" / rt.settings.name).string()
              << " is not one sidecert obtained from an ACME CA: nothing to revoke\n";
    return kExitNoCertificate;
  }
  auto files = rt.volume.readSet(view->set->id);
  if (!files) {
    log::error("revoke_failed", {{"error", files.error().message}});
    return kExitNoCertificate;
  }
  auto serial = sources::parseFiles(*files);
  std::string lastError = "no ACME CA is configured";
  for (auto& ca : rt.acme) {
    auto ok = ca->revoke(*files, reason);
    if (!ok) {
      lastError = ok.error().message;
      continue;
    }
    log::info("cert_revoked", {{"name", rt.settings.name},
                               {"serial", serial ? serial->leaf.serialHex() : "?"},
                               {"ca", ca->id()},
                               {"reason", reason}});
    if (auto marked = rt.volume.markRevoked(view->set->id, wallClockNow()); !marked)
      log::error("revoke_not_recorded", {{"error", marked.error().message}});
    // A running supervisor replaces it now; with none running, we do.
    if (auto pid = store::VolumeLock::holder(rt.fs, rt.settings.stateDir)) {
      ::kill(*pid, SIGHUP);
    } else if (auto lock = store::VolumeLock::tryAcquire(rt.fs, rt.settings.stateDir)) {
      if (auto ok = readyForAPass(rt); ok) rt.lineage->pass(wallClockNow());
      else log::error("revoke_failed", {{"name", rt.settings.name}, {"error", ok.error().message}});
    }
    std::cout << "revoked " << (serial ? serial->leaf.serialHex() : "") << "\n";
    return kExitOk;
  }
  log::error("revoke_failed", {{"name", rt.settings.name}, {"error", lastError}});
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
    if (auto gid = resolveGroup(settings->fileGroup); !gid) return usageError(gid.error().message);
    return checkConfig(*settings);
  }
  if (cl.command == "status") return status(*settings, cl.json);
  auto rt = buildRuntime(*settings);
  if (!rt) return usageError(rt.error().message);
  if (cl.command == "once") return once(**rt);
  if (cl.command == "run") {
    SystemTime time;
    return Supervisor(**rt, time).run();
  }
  auto reason = revocationReason(cl.reason);
  if (!reason) return usageError(reason.error().message);
  return revoke(**rt, *reason);
}

}  // namespace sc::app
