#pragma once
#include <chrono>
#include <string>
#include <vector>

#include "crypto/cert.h"
#include "crypto/key.h"

namespace sc::crypto {

// A self-signed server certificate for `names` (the first is the subject CN),
// valid from an hour before `now` (clock skew between containers) for `lifetime`.
Result<Certificate> selfSign(const PrivateKey& key, const std::vector<std::string>& names, TimePoint now,
                             std::chrono::seconds lifetime);

}  // namespace sc::crypto
