#pragma once
#include <string>

#include "core/result.h"

namespace sc {

// Checks a configured DNS name and returns it in lower case. Wildcards and IP
// addresses are refused: HTTP-01, the only challenge sidecert answers, cannot
// prove either.
Result<std::string> validateDomain(const std::string& name);

}  // namespace sc
