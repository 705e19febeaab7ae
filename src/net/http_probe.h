#pragma once
// One plain-HTTP GET to a given address, as a CA's HTTP-01 check makes it: no
// proxy, no redirect followed, a few seconds at most, a small body.
#include <string>

#include "core/result.h"

namespace sc::net {

struct ProbeReply {
  int status = 0;
  std::string body;  // at most kProbeBodyLimit bytes
};

inline constexpr std::size_t kProbeBodyLimit = 4096;  // a key authorization is under 100

class HttpProbe {
 public:
  virtual ~HttpProbe() = default;
  // GET http://ADDRESS:PORT/PATH with that Host header. An error when nothing
  // answered (refused, timed out); a reply of any status otherwise.
  virtual Result<ProbeReply> get(const std::string& address, int port, const std::string& host,
                                 const std::string& path) = 0;
};

// Each probe on a connection of its own: they go to a different address each.
class CurlProbe final : public HttpProbe {
 public:
  // stopFd (-1: none): readable when the process must stop; a probe under way ends.
  explicit CurlProbe(int stopFd) : stopFd_(stopFd) {}
  Result<ProbeReply> get(const std::string& address, int port, const std::string& host,
                         const std::string& path) override;

 private:
  int stopFd_;
};

}  // namespace sc::net
