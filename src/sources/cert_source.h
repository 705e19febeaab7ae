#pragma once
// A place certificates can be obtained from: ACME CAs, then the self-signed
// fallback. The supervisor tries them in order of preference.
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/key_type.h"
#include "core/result.h"
#include "store/cert_files.h"

namespace sc::sources {

struct Request {
  std::vector<std::string> names;
  KeyType keyType = KeyType::Ec256;
  std::optional<store::CertFiles> current;  // the set being renewed, if any
};

struct Obtained {
  store::CertFiles files;
  std::string serial;
  std::string issuer;
  TimePoint notAfter;
};

class CertSource {
 public:
  virtual ~CertSource() = default;
  virtual store::Source kind() const = 0;
  virtual Result<Obtained> obtain(const Request& request, TimePoint now) = 0;
};

}  // namespace sc::sources
