#pragma once
// What /metrics shows: per lineage what its last pass saw and counts since start,
// the responder's answers, the build. Filled by the supervisor after each pass,
// read by the metrics server's thread.
#include <climits>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "core/clock.h"

namespace sc::metrics {

struct LineageSample {
  std::string name;
  std::string source;  // user, acme, self-signed; empty: nothing is live
  bool valid = false;
  std::optional<TimePoint> notBefore, notAfter;
  std::optional<TimePoint> lastIssuance;  // a CA last issued a certificate for it
  std::optional<TimePoint> lastAttempt;   // an order was last placed
  int consecutiveFailures = 0;
  TimePoint nextCheck{};
  // What this pass added to the counters.
  int failedAttempts = 0;
  int reloads = 0;
  int reloadFailures = 0;
};

struct ResponderCounts {
  std::uint64_t served = 0, notFound = 0, badRequest = 0, tooLarge = 0, dropped = 0;
};

class Registry {
 public:
  Registry(std::string version, std::function<ResponderCounts()> responder)
      : version_(std::move(version)), responder_(std::move(responder)) {}
  void passEnded(const LineageSample& sample);
  void alertDelivery(const std::string& channel, bool delivered);
  // A lineage no longer kept (discovery retired it): its series go.
  void forget(const std::string& lineage);
  // The Prometheus text format (0.0.4).
  std::string render() const;

 private:
  // What is kept of a lineage between passes: one flat record, as 10,000 lineages
  // keep one each (no copy of the name, the source as a number, times as seconds).
  struct Lineage {
    static constexpr std::int64_t kNone = INT64_MIN;
    std::int64_t notBefore = kNone, notAfter = kNone, lastIssuance = kNone, lastAttempt = kNone, nextCheck = 0;
    std::uint64_t failures = 0, reloads = 0, reloadFailures = 0;
    std::int32_t consecutiveFailures = 0;
    std::int8_t source = -1;  // index in kSources; -1: nothing (or something else) live
    bool valid = false;
  };
  std::string version_;
  std::function<ResponderCounts()> responder_;
  mutable std::mutex mutex_;
  std::map<std::string, Lineage> lineages_;
  std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> alerts_;  // channel: delivered, failed
};

}  // namespace sc::metrics
