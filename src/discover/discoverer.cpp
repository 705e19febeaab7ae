#include "discover/discoverer.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <cstring>

#include "log/log.h"

namespace sc::discover {
namespace {

// After an event, more usually follow (a stack coming up starts many containers):
// read once they have been quiet this long, and at most this long after the first.
constexpr std::chrono::milliseconds kQuiet{300};
constexpr std::chrono::milliseconds kMaxQuiet{2000};
// A failed read or a stream that ends: try again after 1 s, 2 s, 4 s... up to a minute.
constexpr std::chrono::seconds kFirstPause{1};
constexpr std::chrono::seconds kLongestPause{60};
// What the stream follows: only what can change which lineages are wanted.
constexpr const char* kEventsPath =
    "/events?filters=%7B%22type%22%3A%5B%22container%22%2C%22service%22%5D%2C%22event%22%3A%5B%22start%22%2C"
    "%22die%22%2C%22destroy%22%2C%22create%22%2C%22update%22%2C%22remove%22%5D%7D";

void drain(int fd) {
  std::uint64_t n;
  while (::read(fd, &n, sizeof n) == sizeof n) {
  }
}

void signal(int fd) {
  std::uint64_t one = 1;
  [[maybe_unused]] auto w = ::write(fd, &one, sizeof one);
}

// Readable within `wait`: true when `fd` is (-1: only waits), false on timeout;
// the stop and quit fds end the wait too.
bool pollFor(int fd, int stopFd, int quitFd, std::chrono::milliseconds wait) {
  pollfd fds[3] = {{stopFd, POLLIN, 0}, {quitFd, POLLIN, 0}, {fd, POLLIN, 0}};
  int n = ::poll(fds, fd < 0 ? 2 : 3, static_cast<int>(wait.count()));
  return n > 0 && fd >= 0 && (fds[2].revents & POLLIN);
}

// An event as the engine sends it: an object with a Type and an Action.
bool isEvent(const std::string& line) {
  try {
    auto v = Poco::JSON::Parser().parse(line);
    if (v.type() != typeid(Poco::JSON::Object::Ptr)) return false;
    auto o = v.extract<Poco::JSON::Object::Ptr>();
    return o->has("Type") && o->get("Type").isString() && o->has("Action") && o->get("Action").isString();
  } catch (const Poco::Exception&) {
    return false;
  }
}

}  // namespace

Result<std::unique_ptr<Discoverer>> Discoverer::start(const DiscoverSettings& settings, const MakeEngine& makeEngine,
                                                      const MakeEvents& makeEvents, int stopFd) {
  int quit = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  int ready = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  int dirty = ::eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK);  // a first read at once
  if (quit < 0 || ready < 0 || dirty < 0) {
    for (int fd : {quit, ready, dirty})
      if (fd >= 0) ::close(fd);
    return fail(std::string("discovery: eventfd: ") + std::strerror(errno));
  }
  std::unique_ptr<Discoverer> d(new Discoverer(settings, stopFd, quit, ready, dirty));
  d->engine_ = makeEngine(quit);
  d->reader_ = std::make_unique<EngineReader>(*d->engine_, settings.mode);
  d->events_ = makeEvents(quit);
  d->reading_ = std::thread([p = d.get()] { p->readLoop(); });
  d->following_ = std::thread([p = d.get()] { p->followLoop(); });
  return d;
}

Discoverer::Discoverer(const DiscoverSettings& settings, int stopFd, int quit, int ready, int dirty)
    : settings_(settings), stopFd_(stopFd), quit_(quit), ready_(ready), dirty_(dirty) {}

Discoverer::~Discoverer() {
  signal(quit_);  // ends the waits and the engine's calls under way
  if (reading_.joinable()) reading_.join();
  if (following_.joinable()) following_.join();
  for (int fd : {quit_, ready_, dirty_}) ::close(fd);
}

bool Discoverer::stopping() const {
  pollfd p[2] = {{stopFd_, POLLIN, 0}, {quit_, POLLIN, 0}};
  return ::poll(p, 2, 0) > 0;
}

std::optional<Reading> Discoverer::take() {
  drain(ready_);
  std::lock_guard lock(mutex_);
  auto out = std::move(latest_);
  latest_.reset();
  return out;
}

void Discoverer::markDirty() { signal(dirty_); }

void Discoverer::handOver(Reading reading) {
  {
    std::lock_guard lock(mutex_);
    latest_ = std::move(reading);
  }
  signal(ready_);
}

// Until an event (then a short quiet) or the resync interval; false: stop.
bool Discoverer::waitForWork(std::chrono::milliseconds resync) {
  pollFor(dirty_, stopFd_, quit_, resync);
  if (stopping()) return false;
  auto first = std::chrono::steady_clock::now();
  drain(dirty_);
  while (std::chrono::steady_clock::now() - first < kMaxQuiet && pollFor(dirty_, stopFd_, quit_, kQuiet)) drain(dirty_);
  return !stopping();
}

void Discoverer::readLoop() {
  std::chrono::milliseconds pause = kFirstPause;
  bool failing = false;
  std::chrono::milliseconds wait{0};
  while (waitForWork(wait)) {
    auto reading = reader_->readAll();
    if (!reading) {
      if (!failing)
        log::error("discovery_failed", {{"error", reading.error().message},
                                        {"effect", "the lineages discovered so far keep being served and renewed"}});
      failing = true;
      wait = pause;
      pause = std::min<std::chrono::milliseconds>(pause * 2, kLongestPause);
      continue;
    }
    if (failing) log::info("discovery_back", {{"workloads", static_cast<std::int64_t>(reading->workloads.size())}});
    failing = false;
    pause = kFirstPause;
    wait = settings_.resync;
    handOver(std::move(*reading));
  }
}

void Discoverer::followLoop() {
  std::chrono::milliseconds pause = kFirstPause;
  bool failing = false;
  while (!stopping()) {
    auto began = std::chrono::steady_clock::now();
    bool garbageLogged = false;
    auto ended = events_->follow(
        kEventsPath, settings_.resync, [this] { markDirty(); },
        [&](const std::string& line) {
          if (isEvent(line)) return markDirty();
          if (!garbageLogged)
            log::warn("discovery_event_garbage", {{"line", line.substr(0, 120)}, {"effect", "ignored"}});
          garbageLogged = true;
        });
    if (stopping()) return;
    bool lasted = std::chrono::steady_clock::now() - began >= kLongestPause;
    if (ended && *ended == net::StreamEnd::TimeLimit) {
      pause = kFirstPause;
      continue;
    }
    if (!ended && !failing)
      log::warn("discovery_events_lost", {{"error", ended.error().message},
                                          {"effect", "reconnecting; until then, a full read every " +
                                                         std::to_string(settings_.resync.count()) + "s"}});
    failing = !ended;
    if (lasted) pause = kFirstPause;
    pollFor(-1, stopFd_, quit_, pause);
    pause = std::min<std::chrono::milliseconds>(pause * 2, kLongestPause);
  }
}

}  // namespace sc::discover
