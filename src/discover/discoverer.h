#pragma once
// Discovery's two threads: one follows the engine's /events stream (reconnected
// with a growing pause), the other reads every container or service whenever an
// event came (after a short quiet), after every reconnect, and at least every
// SIDECERT_DISCOVER_RESYNC. Events only trigger reads: a lost event costs nothing.
// The latest reading is handed to the supervisor, whose fd() becomes readable.
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "config/settings.h"
#include "discover/engine_reader.h"
#include "net/docker_events.h"

namespace sc::discover {

class Discoverer {
 public:
  // `engine` reads, `events` follows; both end at once when `stopFd` is readable.
  static Result<std::unique_ptr<Discoverer>> start(const DiscoverSettings& settings, net::DockerEngine& engine,
                                                   std::unique_ptr<net::DockerEvents> events, int stopFd);
  ~Discoverer();

  int fd() const { return ready_; }  // readable: a new reading is there
  // The latest successful reading, once (nullopt: none since the last take).
  std::optional<Reading> take();

 private:
  Discoverer(const DiscoverSettings& settings, net::DockerEngine& engine, std::unique_ptr<net::DockerEvents> events,
             int stopFd, int ready, int dirty);
  void readLoop();
  void followLoop();
  void markDirty();
  bool waitForWork(std::chrono::milliseconds resync);
  void handOver(Reading reading);
  bool stopping() const;

  DiscoverSettings settings_;
  EngineReader reader_;
  std::unique_ptr<net::DockerEvents> events_;
  int stopFd_;
  int ready_;  // eventfd: to the supervisor
  int dirty_;  // eventfd: an event came, or the stream reconnected
  std::mutex mutex_;
  std::optional<Reading> latest_;
  std::thread reading_;
  std::thread following_;
};

}  // namespace sc::discover
