#include "dns/exchange.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <optional>

namespace sc::dns {
namespace {

using SteadyClock = std::chrono::steady_clock;

class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

// Waits until `fd` has `events` or the deadline; Cancelled when `stopFd` fires first.
Status waitFor(int fd, short events, SteadyClock::time_point deadline, int stopFd, const std::string& what) {
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
    if (left.count() <= 0) return fail("no reply from " + what + " in time");
    pollfd fds[2] = {{fd, events, 0}, {stopFd, POLLIN, 0}};
    int n = ::poll(fds, stopFd >= 0 ? 2 : 1, static_cast<int>(std::min<long long>(left.count(), 1000)));
    if (n < 0 && errno != EINTR) return failErrno("wait for", what);
    if (stopFd >= 0 && n > 0 && (fds[1].revents & POLLIN)) return failAs(ErrorKind::Cancelled, "stopped waiting for " + what);
    if (n > 0 && fds[0].revents) return {};
  }
}

Result<sockaddr_storage> addressOf(const Server& s, socklen_t& len) {
  sockaddr_storage ss{};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (::inet_pton(AF_INET, s.address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<std::uint16_t>(s.port));
    len = sizeof *v4;
  } else if (::inet_pton(AF_INET6, s.address.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<std::uint16_t>(s.port));
    len = sizeof *v6;
  } else {
    return fail("'" + s.address + "' is not an IP address");
  }
  return ss;
}

Result<int> connectedSocket(const Server& s, int type, SteadyClock::time_point deadline, int stopFd) {
  socklen_t len = 0;
  auto addr = addressOf(s, len);
  if (!addr) return std::unexpected(addr.error());
  int fd = ::socket(addr->ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return failErrno("open a socket to", s.describe());
  if (::connect(fd, reinterpret_cast<sockaddr*>(&*addr), len) != 0) {
    if (errno != EINPROGRESS) {
      auto e = failErrno("connect to", s.describe());
      ::close(fd);
      return e;
    }
    if (auto ok = waitFor(fd, POLLOUT, deadline, stopFd, s.describe()); !ok) {
      ::close(fd);
      return std::unexpected(ok.error());
    }
    int err = 0;
    socklen_t el = sizeof err;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0) err = errno;
    if (err != 0) {
      ::close(fd);
      return fail("connect to " + s.describe() + ": " + std::strerror(err));
    }
  }
  return fd;
}

Result<Bytes> overUdp(const Server& s, const Bytes& message, SteadyClock::time_point deadline, int stopFd,
                      const std::function<bool(const Bytes&)>& accept) {
  auto fd = connectedSocket(s, SOCK_DGRAM, deadline, stopFd);
  if (!fd) return std::unexpected(fd.error());
  Socket sock(*fd);
  if (::send(sock.fd(), message.data(), message.size(), 0) < 0) return failErrno("send a DNS query to", s.describe());
  Bytes buf(65535);
  while (true) {
    if (auto ok = waitFor(sock.fd(), POLLIN, deadline, stopFd, s.describe()); !ok) return std::unexpected(ok.error());
    ssize_t n = ::recv(sock.fd(), buf.data(), buf.size(), 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n < 0) return failErrno("read the reply of", s.describe());
    Bytes reply(buf.begin(), buf.begin() + n);
    if (accept(reply)) return reply;
  }
}

Status sendAll(int fd, const std::uint8_t* data, std::size_t size, SteadyClock::time_point deadline, int stopFd,
               const std::string& what) {
  while (size > 0) {
    if (auto ok = waitFor(fd, POLLOUT, deadline, stopFd, what); !ok) return ok;
    ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n < 0) return failErrno("send to", what);
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return {};
}

Status readAll(int fd, std::uint8_t* data, std::size_t size, SteadyClock::time_point deadline, int stopFd,
               const std::string& what) {
  while (size > 0) {
    if (auto ok = waitFor(fd, POLLIN, deadline, stopFd, what); !ok) return ok;
    ssize_t n = ::recv(fd, data, size, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n < 0) return failErrno("read from", what);
    if (n == 0) return fail(what + " closed the connection before its reply was complete");
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return {};
}

// RFC 1035 4.2.2: each message over TCP after its length, two bytes.
constexpr std::size_t kMaxTcpMessage = 65535;

Result<Bytes> overTcp(const Server& s, const Bytes& message, SteadyClock::time_point deadline, int stopFd,
                      const std::function<bool(const Bytes&)>& accept) {
  // A longer one would go after its length modulo 65536: the server would take its
  // first bytes for the message and the rest for another.
  if (message.size() > kMaxTcpMessage)
    return fail("a DNS message of " + std::to_string(message.size()) + " bytes is longer than TCP can frame (" +
                std::to_string(kMaxTcpMessage) + ") for " + s.describe());
  auto fd = connectedSocket(s, SOCK_STREAM, deadline, stopFd);
  if (!fd) return std::unexpected(fd.error());
  Socket sock(*fd);
  std::uint8_t len[2] = {static_cast<std::uint8_t>(message.size() >> 8), static_cast<std::uint8_t>(message.size())};
  if (auto ok = sendAll(sock.fd(), len, 2, deadline, stopFd, s.describe()); !ok) return std::unexpected(ok.error());
  if (auto ok = sendAll(sock.fd(), message.data(), message.size(), deadline, stopFd, s.describe()); !ok)
    return std::unexpected(ok.error());
  if (auto ok = readAll(sock.fd(), len, 2, deadline, stopFd, s.describe()); !ok) return std::unexpected(ok.error());
  Bytes reply(static_cast<std::size_t>(len[0]) << 8 | len[1]);
  if (auto ok = readAll(sock.fd(), reply.data(), reply.size(), deadline, stopFd, s.describe()); !ok)
    return std::unexpected(ok.error());
  if (!accept(reply)) return failAs(ErrorKind::Protocol, s.describe() + " replied to another message");
  return reply;
}

}  // namespace

std::string Server::describe() const {
  bool v6 = address.find(':') != std::string::npos;
  return (v6 ? "[" + address + "]" : address) + ":" + std::to_string(port);
}

namespace {

// The port after ADDRESS: or [IPv6]:, digits only: atoi dropped what followed them
// and wrapped a number past int's range into a valid-looking port.
Result<int> parsePort(const std::string& digits, const std::string& text) {
  int port = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() || port < 1 || port > 65535)
    return fail("'" + text + "' has no valid port (1-65535)");
  return port;
}

}  // namespace

Result<Server> parseServer(const std::string& text) {
  Server s;
  std::optional<std::string> port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string::npos) return fail("'" + text + "' has no closing ']'");
    s.address = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') return fail("'" + text + "' is not [IPv6]:PORT");
      port = text.substr(close + 2);
    }
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    s.address = text.substr(0, text.find(':'));
    port = text.substr(text.find(':') + 1);
  } else {
    s.address = text;
  }
  unsigned char bytes[16];
  if (::inet_pton(AF_INET, s.address.c_str(), bytes) != 1 && ::inet_pton(AF_INET6, s.address.c_str(), bytes) != 1)
    return fail("'" + text + "' is not an IP address with an optional port");
  if (port) {
    auto p = parsePort(*port, text);
    if (!p) return std::unexpected(p.error());
    s.port = *p;
  }
  return s;
}

Result<Bytes> exchange(const Server& server, const Bytes& message, Transport transport,
                       std::chrono::milliseconds timeout, int stopFd,
                       const std::function<bool(const Bytes&)>& accept) {
  auto deadline = SteadyClock::now() + timeout;
  return transport == Transport::Udp ? overUdp(server, message, deadline, stopFd, accept)
                                     : overTcp(server, message, deadline, stopFd, accept);
}

}  // namespace sc::dns
