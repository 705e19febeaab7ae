#pragma once
#include "sources/cert_source.h"

namespace sc::sources {

// The fallback that is always there: no network, a few milliseconds for EC keys.
class SelfSignedSource final : public CertSource {
 public:
  // Long enough not to churn, short enough that a forgotten fallback is renewed.
  static constexpr std::chrono::seconds kLifetime = std::chrono::hours(24 * 90);

  store::Source kind() const override { return store::Source::SelfSigned; }
  Result<CertSet> obtain(const Request& request, TimePoint now) override;
};

}  // namespace sc::sources
