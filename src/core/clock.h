#pragma once
#include <chrono>

namespace sc {

using Clock = std::chrono::system_clock;
using TimePoint = Clock::time_point;
using Seconds = std::chrono::seconds;

// Time is a dependency: decisions take `now`, and the code that asks for it goes
// through this interface so tests can set the hour.
class TimeSource {
 public:
  virtual ~TimeSource() = default;
  virtual TimePoint now() const = 0;
};

class SystemTime final : public TimeSource {
 public:
  TimePoint now() const override { return Clock::now(); }
};

inline const TimeSource& systemTime() {
  static const SystemTime instance;
  return instance;
}

}  // namespace sc
