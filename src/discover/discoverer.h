#pragma once
// Discovery's two threads: one follows the engine's /events stream (reconnected
// with a growing pause), the other reads every container or service whenever an
// event came (after a short quiet), after every reconnect, and at least every
// SIDECERT_DISCOVER_RESYNC. Events only trigger reads: a lost event costs nothing.
// The latest reading is handed to the supervisor, whose fd() becomes readable.
#include <atomic>
#include <functional>
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
  // The engine's clients, made with the descriptor that ends their calls at once.
  using MakeEngine = std::function<std::unique_ptr<net::DockerEngine>(int quitFd)>;
  using MakeEvents = std::function<std::unique_ptr<net::DockerEvents>(int quitFd)>;
  // The threads end when `stopFd` (the process's stop) is readable, or when the
  // Discoverer goes, whichever comes first: a start-up that fails after it began
  // must not wait for a stop that never comes.
  static Result<std::unique_ptr<Discoverer>> start(const DiscoverSettings& settings, const MakeEngine& makeEngine,
                                                   const MakeEvents& makeEvents, int stopFd);
  ~Discoverer();

  int fd() const { return ready_; }  // readable: a new reading is there
  // The latest successful reading, once (nullopt: none since the last take).
  std::optional<Reading> take();

 private:
  Discoverer(const DiscoverSettings& settings, int stopFd, int quit, int ready, int dirty);
  void readLoop();
  void followLoop();
  void markDirty();
  bool waitForWork(std::chrono::milliseconds resync);
  void handOver(Reading reading);
  bool stopping() const;

  DiscoverSettings settings_;
  std::unique_ptr<net::DockerEngine> engine_;
  std::unique_ptr<EngineReader> reader_;
  std::unique_ptr<net::DockerEvents> events_;
  int stopFd_;
  int quit_;   // eventfd: the Discoverer goes; also what the engine's calls watch
  int ready_;  // eventfd: to the supervisor
  int dirty_;  // eventfd: an event came, or the stream reconnected
  std::mutex mutex_;
  std::optional<Reading> latest_;
  std::thread reading_;
  std::thread following_;
};

}  // namespace sc::discover
