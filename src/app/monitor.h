#pragma once
// What operators see besides the log: alerts (alert::Center over the configured
// channels) and /metrics (metrics::Server). The supervisor hands each pass's
// result over; neither ever holds a pass up.
#include <memory>
#include <vector>

#include "alert/center.h"
#include "app/wiring.h"
#include "metrics/server.h"

namespace sc::app {

// The channels the settings configure, in a fixed order (mail, webhook).
Result<std::vector<std::unique_ptr<alert::Channel>>> alertChannels(const Settings& settings, int stopFd);

class Monitor {
 public:
  // Binds the metrics port (before privileges are dropped); an error there is
  // logged, not fatal: certificates come first.
  static Result<std::unique_ptr<Monitor>> create(Runtime& rt, const TimeSource& clock);
  // Starts the senders and the metrics server: after privileges are dropped.
  void start();
  void passEnded(const LineageRuntime& lineage, const PassResult& result);
  void lineageRetired(const std::string& name);
  ~Monitor();

 private:
  Monitor() = default;
  const Settings* settings_ = nullptr;
  std::shared_ptr<metrics::Registry> registry_;
  std::unique_ptr<metrics::Server> server_;
  std::unique_ptr<alert::Center> center_;
};

}  // namespace sc::app
