#pragma once
// GET /metrics for Prometheus on SIDECERT_METRICS_LISTEN, never on the HTTP-01
// port: the connection loop the HTTP-01 responder runs on (a thread of its own,
// bounded connections and deadlines), nothing else served.
#include <memory>

#include "config/settings.h"
#include "core/result.h"
#include "metrics/registry.h"

namespace sc::metrics {

class Server {
 public:
  // Binds now (before privileges are dropped); serves from start().
  static Result<std::unique_ptr<Server>> bind(const Listen& listen, std::shared_ptr<Registry> registry);
  ~Server();
  void start();
  void stop();
  int port() const;

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sc::metrics
