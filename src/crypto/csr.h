#pragma once
#include <string>
#include <vector>

#include "crypto/key.h"

namespace sc::crypto {

// A certificate signing request (DER) for `names`, the first as CN, all as SANs.
Result<std::string> makeCsr(const PrivateKey& key, const std::vector<std::string>& names);

}  // namespace sc::crypto
