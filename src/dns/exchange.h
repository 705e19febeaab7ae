#pragma once
// Sends one DNS message to one server and waits for its reply: over UDP, and over
// TCP when the reply was truncated or the message is an update. Every wait also
// watches the stop descriptor, so SIGTERM ends it at once, and ends by a deadline.
#include <chrono>
#include <functional>
#include <string>

#include "core/result.h"
#include "dns/message.h"

namespace sc::dns {

// ADDRESS[:PORT], IPv6 in brackets when a port follows; 53 when none is given.
struct Server {
  std::string address;
  int port = 53;
  std::string describe() const;
};
Result<Server> parseServer(const std::string& text);

enum class Transport { Udp, Tcp };

// A reply's bytes, or an error: Cancelled on a stop, a timeout or network error as
// General. `accept` reads each datagram that arrives: one that is not the reply
// (another id, garbage from a spoofer) is skipped while time is left.
Result<Bytes> exchange(const Server& server, const Bytes& message, Transport transport,
                       std::chrono::milliseconds timeout, int stopFd,
                       const std::function<bool(const Bytes&)>& accept);

}  // namespace sc::dns
