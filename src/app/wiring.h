#pragma once
// The composition root: the only place that turns Settings into objects.
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>

#include "app/account_paces.h"
#include "app/lineage.h"
#include "config/settings.h"
#include "dns/client.h"
#include "http01/responder.h"
#include "net/curl_transport.h"
#include "net/lazy_transport.h"
#include "net/transport_pool.h"
#include "net/docker_socket.h"
#include "reload/signal_reloader.h"
#include "reload/reloader.h"
#include "sources/acme_source.h"
#include "sources/dns_persist_solver.h"
#include "sources/self_signed_source.h"
#include "store/account_store.h"
#include "store/posix_fs.h"
#include "store/dns_record_file.h"
#include "store/state.h"
#include "store/views.h"
#include "store/volume.h"
#include "swarm/gateway_check.h"
#include "swarm/session.h"

namespace sc::app {

struct Runtime;

// What one lineage owns: its folders, its state, its reload action, and ACME
// clients of its own (a transfer handle and nonces serve one pass at a time, and
// lineages run at once). The account, the responder and the lock are shared.
struct LineageRuntime {
  LineageRuntime(Runtime& rt, CertificateSpec spec, store::Publishing publishing);
  const std::string& name() const { return spec.name; }

  CertificateSpec spec;
  store::Volume volume;
  store::StateStore state;
  net::LazyTransport transport;  // borrowed on the first CA request, given back after each pass
  // The last round of the gateway views held this lineage as published (written
  // whole); guarded by Runtime::lineagesMutex.
  bool inViews = false;
  net::RealSleeper sleeper;
  http01::FetchAwareSleeper pollSleeper;
  // Swarm mode: the gateways are asked before the CA is (swarm/gateway_check.h).
  std::unique_ptr<net::CurlProbe> probe;
  std::unique_ptr<swarm::GatewayCheck> gatewayCheck;
  // How the lineage's challenge is met, and the DNS it reads (DNS challenges only).
  std::unique_ptr<dns::Client> dns;
  // dns-01: what was added and not yet removed; dns-persist-01: what was last seen
  std::unique_ptr<store::DnsRecordFile> dnsRecords;
  std::unique_ptr<acme::Solver> solver;
  sources::DnsPersistSolver* persist = nullptr;  // the solver, when it is dns-persist-01's
  std::vector<std::unique_ptr<sources::AcmeSource>> acme;
  std::unique_ptr<net::DockerSocket> docker;
  std::unique_ptr<reload::Reloader> reloader;
  std::unique_ptr<Lineage> lineage;

 private:
  std::unique_ptr<reload::Reloader> makeReloader(Runtime& rt, const store::Publishing& publishing);
  std::unique_ptr<acme::Solver> makeSolver(Runtime& rt);
};

struct Runtime {
  Runtime(Settings s, StopSignal stop);
  // Binds the HTTP-01 responder's port: before privileges are dropped, as
  // capabilities belong to the thread, and the responder's thread comes after.
  Status bindResponder();
  // Starts it answering, binding first if that was not done (run keeps it up;
  // once for its pass).
  Status startResponder();
  // After bindResponder, while one thread runs: keeps only the capabilities the
  // settings use (app/privileges.h), and says so in the log.
  Status dropPrivileges();
  // Every lineage's folders, made where missing; then the gateway views.
  Status prepareVolumes();
  // The gateway views (store/views.h) made to match every lineage now in
  // `lineages`: after each publish, and when lineages come or go (addLineage,
  // removeLineage). Any thread; nothing before prepareVolumes (status only reads).
  void refreshViews();
  // After a publish, with 10,000 lineages at start: one refresh at a time rebuilds
  // the views, and publishes made meanwhile are covered by its next round, instead
  // of each publish rebuilding every view in turn. `wait`: returns once the views
  // hold this publish (its gateway is told next); else a refresh under way is
  // left to cover it, and the caller goes on.
  void viewsChanged(bool wait);
  // Whether the last round of the views held `l` as published. Waits for a round
  // under way, which may have read `l` before its publish.
  bool viewsHold(const LineageRuntime& l);
  bool usesAcme() const { return !settings.acmeDirectories.empty(); }
  // Some lineage proves its names over http-01: the responder listens.
  bool usesResponder() const;
  // A lineage's reload action is swarm:SERVICE: the sets live in the swarm's store.
  bool swarmMode() const { return swarm != nullptr; }

  Settings settings;
  StopSignal stop;  // SIGTERM: ends sleeps, polls and transfers of a pass under way
  store::PosixFileSystem fs;
  store::AccountStore accounts;
  AccountPaces paces;  // one per CA account, shared by its lineages (outlives them)
  std::shared_ptr<http01::TokenStore> tokens;
  std::unique_ptr<http01::Responder> responder;
  bool responderStarted = false;
  sources::SelfSignedSource selfSigned;
  reload::ProcTable processes;
  std::unique_ptr<net::DockerSocket> swarmEngine;
  std::unique_ptr<swarm::Session> swarm;
  std::vector<dns::Server> dnsResolvers;  // when some lineage uses a DNS challenge
  net::TransportPool transports;  // the lineages' connections to their CAs (outlives them)
  std::vector<std::unique_ptr<LineageRuntime>> lineages;  // as configured, in order
  store::Views views;  // nginx/sni.map, haproxy/crt-list, nginx-proxy's links
  // Held while `lineages` changes and while the views read it: a pass thread's
  // refreshViews runs beside the supervisor adding or removing a lineage.
  std::mutex lineagesMutex;
  bool viewsKept = false;  // prepareVolumes ran: the views are this process's to keep
  std::mutex viewsRoundMutex;  // guards the members below (viewsChanged)
  std::condition_variable viewsCovered;
  std::uint64_t viewsMarks = 0, viewsMarksCovered = 0;
  bool viewsRefreshing = false;
};

Result<std::unique_ptr<Runtime>> buildRuntime(Settings settings);
// The gateway views (nginx/sni.map, haproxy/crt-list, nginx-proxy's links) are kept
// with discovery, the nginx-proxy layout, or several certificates.
bool keepsGatewayViews(const Settings& settings);
// One more lineage, while running (discovery): made as buildRuntime makes each.
Result<LineageRuntime*> addLineage(Runtime& rt, const CertificateSpec& spec);
// Ends it: no pass of it may be under way.
void removeLineage(Runtime& rt, const LineageRuntime* lineage);
// Some lineage proves its names over http-01 and the responder answers: always
// without a webroot; beside SIDECERT_HTTP01_WEBROOT only when SIDECERT_HTTP01_LISTEN
// is set, so that a sidecert beside nginx-proxy's gateway need not bind port 80.
bool responderListens(const Settings& settings);
// The file in the state folder that lists a DNS challenge's records (store/dns_record_file.h).
std::string dnsRecordFileName(const CertificateSpec& spec);
// The resolvers the DNS challenges ask: the configured ones, else the system's.
Result<std::vector<dns::Server>> dnsResolvers(const Settings& settings);
std::string hostName();
Policy policyFrom(const Settings& settings, const CertificateSpec& certificate);
Result<std::optional<gid_t>> resolveGroup(const std::string& group);
Result<std::optional<uid_t>> resolveOwner(const std::string& user);
// Owner, group and modes of the published files, from the settings.
Result<store::Publishing> publishingFrom(const Settings& settings);

}  // namespace sc::app
