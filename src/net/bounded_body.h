#pragma once
// A libcurl write callback that keeps a reply's body up to a limit. A peer that
// sends more ends the transfer, and `tooLarge` lets the caller say so plainly
// instead of passing on libcurl's "Failure writing output to destination".
#include <cstddef>
#include <string>

namespace sc::net {

struct BoundedBody {
  std::string& text;
  std::size_t limit;
  bool tooLarge = false;
};

inline std::size_t appendBounded(char* data, std::size_t size, std::size_t n, void* user) {
  auto* body = static_cast<BoundedBody*>(user);
  if (body->text.size() + size * n > body->limit) {
    body->tooLarge = true;
    return 0;
  }
  body->text.append(data, size * n);
  return size * n;
}

}  // namespace sc::net
