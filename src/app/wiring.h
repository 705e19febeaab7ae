#pragma once
// The composition root: the only place that turns Settings into objects.
#include <memory>

#include "app/lineage.h"
#include "config/settings.h"
#include "http01/responder.h"
#include "net/curl_transport.h"
#include "net/docker_socket.h"
#include "reload/signal_reloader.h"
#include "reload/reloader.h"
#include "sources/acme_source.h"
#include "sources/self_signed_source.h"
#include "store/account_store.h"
#include "store/posix_fs.h"
#include "store/state.h"
#include "store/volume.h"

namespace sc::app {

struct Runtime {
  Runtime(Settings s, std::optional<gid_t> keyGroup, StopSignal stop, std::unique_ptr<net::CurlTransport> transport);
  // Binds the HTTP-01 responder's port: before privileges are dropped, as
  // capabilities belong to the thread, and the responder's thread comes after.
  Status bindResponder();
  // Starts it answering, binding first if that was not done (run keeps it up;
  // once for its pass).
  Status startResponder();
  // After bindResponder, while one thread runs: keeps only the capabilities the
  // settings use (app/privileges.h), and says so in the log.
  Status dropPrivileges();
  std::unique_ptr<reload::Reloader> makeReloader();

  Settings settings;
  StopSignal stop;  // SIGTERM: ends sleeps, polls and transfers of a pass under way
  store::PosixFileSystem fs;
  store::Volume volume;
  store::StateStore state;
  store::AccountStore accounts;
  std::unique_ptr<net::CurlTransport> transport;
  net::RealSleeper sleeper{stop};
  std::shared_ptr<http01::TokenStore> tokens;
  http01::FetchAwareSleeper pollSleeper{sleeper, *tokens};
  std::unique_ptr<http01::Responder> responder;
  bool responderStarted = false;
  std::vector<std::unique_ptr<sources::AcmeSource>> acme;
  sources::SelfSignedSource selfSigned;
  reload::ProcTable processes;
  std::unique_ptr<net::DockerSocket> docker;
  std::unique_ptr<reload::Reloader> reloader;
  std::unique_ptr<Lineage> lineage;
};

Result<std::unique_ptr<Runtime>> buildRuntime(const Settings& settings);
Policy policyFrom(const Settings& settings);
Result<std::optional<gid_t>> resolveGroup(const std::string& group);

}  // namespace sc::app
