#pragma once
#include <chrono>

namespace sc {

using Clock = std::chrono::system_clock;
// Milliseconds in 64 bits span 292 million years: any X.509 time (up to 9999-12-31,
// RFC 5280 4.1.2.5) plus any duration sidecert adds stays far from overflow, where the
// clock's own nanoseconds end in 2262.
using TimePoint = std::chrono::time_point<Clock, std::chrono::milliseconds>;
using Seconds = std::chrono::seconds;

// The wall clock at TimePoint's resolution; the one place that reads it.
inline TimePoint wallClockNow() { return std::chrono::time_point_cast<std::chrono::milliseconds>(Clock::now()); }

// Time is a dependency: decisions take `now`, and the code that asks for it goes
// through this interface so tests can set the hour.
class TimeSource {
 public:
  virtual ~TimeSource() = default;
  virtual TimePoint now() const = 0;
};

class SystemTime final : public TimeSource {
 public:
  TimePoint now() const override { return wallClockNow(); }
};

inline const TimeSource& systemTime() {
  static const SystemTime instance;
  return instance;
}

}  // namespace sc
