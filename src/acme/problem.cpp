#include "acme/types.h"

namespace sc::acme {

std::string Problem::describe() const {
  std::string t = type.rfind(kErrorPrefix, 0) == 0 ? type.substr(std::string(kErrorPrefix).size()) : type;
  std::string out = (identifier.empty() ? "" : identifier + ": ") + t + (detail.empty() ? "" : ": " + detail);
  if (!subproblems.empty()) {
    out += " [";
    for (std::size_t i = 0; i < subproblems.size(); ++i) out += (i ? "; " : "") + subproblems[i].describe();
    out += "]";
  }
  return out;
}

}  // namespace sc::acme
