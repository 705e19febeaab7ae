#pragma once
#include <string>

#include "core/result.h"

namespace sc::reload {

// Tells the gateway that the live set changed. A failure is reported, never
// undone: the new certificate stays, and the supervisor tries the reload again.
class Reloader {
 public:
  virtual ~Reloader() = default;
  virtual Status reload() = 0;
  virtual std::string describe() const = 0;
};

class NoReload final : public Reloader {
 public:
  Status reload() override { return {}; }
  std::string describe() const override { return "none"; }
};

}  // namespace sc::reload
