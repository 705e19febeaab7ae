// sc::dns::exchange, the transport sidecert writes itself, against small servers
// on loopback. tests/fuzz/dns_exchange.cpp feeds it arbitrary bytes; these pin the
// defects found in it, each failing before its fix.
#include "dns/exchange.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

using namespace sc::dns;

namespace {

constexpr int kPatienceMillis = 5000;  // every wait of a test server ends by then

// A TCP listener on 127.0.0.1 with a port the kernel picked.
class Listener {
 public:
  Listener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ok_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(fd_, 4) == 0 &&
          ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0;
    port_ = ntohs(a.sin_port);
  }
  ~Listener() {
    if (fd_ >= 0) ::close(fd_);
    if (stop_ >= 0) ::close(stop_);
  }
  bool ok() const { return ok_ && stop_ >= 0; }
  // Ends a wait in acceptOne: the client gave up before connecting.
  void stop() const {
    std::uint64_t one = 1;
    (void)::write(stop_, &one, sizeof one);
  }
  Server server() const { return Server{"127.0.0.1", port_}; }
  // The next connection, or -1 when none comes within kPatienceMillis or on stop().
  int acceptOne() const {
    pollfd p[2] = {{fd_, POLLIN, 0}, {stop_, POLLIN, 0}};
    if (::poll(p, 2, kPatienceMillis) < 1 || !(p[0].revents & POLLIN)) return -1;
    return ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
  }

 private:
  int fd_ = -1;
  int stop_ = ::eventfd(0, EFD_CLOEXEC);
  int port_ = 0;
  bool ok_ = false;
};

bool readExactly(int fd, std::uint8_t* data, std::size_t size) {
  while (size > 0) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, kPatienceMillis) != 1) return false;
    ssize_t n = ::recv(fd, data, size, 0);
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

// A DNS-over-TCP server that takes one message as its length prefix frames it and
// sends it back as its reply, then reads on until the client closes.
void echoOneFramedMessage(const Listener& l) {
  int fd = l.acceptOne();
  if (fd < 0) return;
  std::uint8_t len[2];
  if (readExactly(fd, len, 2)) {
    Bytes message(static_cast<std::size_t>(len[0] << 8 | len[1]));
    if (readExactly(fd, message.data(), message.size())) {
      Bytes framed{len[0], len[1]};
      framed.insert(framed.end(), message.begin(), message.end());
      (void)::send(fd, framed.data(), framed.size(), MSG_NOSIGNAL);
    }
  }
  std::uint8_t sink[4096];
  for (int i = 0; i < 64; ++i) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, kPatienceMillis) != 1 || ::recv(fd, sink, sizeof sink, 0) <= 0) break;
  }
  ::close(fd);
}

}  // namespace

// Two bytes frame a DNS message over TCP (RFC 1035 4.2.2): a longer one was sent
// after its length modulo 65536, and the server took its first bytes for the whole
// message and its rest for the next one.
TEST(DnsExchange, RefusesAMessageTooLongForTcpFraming) {
  Listener l;
  ASSERT_TRUE(l.ok());
  std::thread server([&] { echoOneFramedMessage(l); });
  Bytes message(65536 + 100, 0);
  auto reply = exchange(l.server(), message, Transport::Tcp, std::chrono::milliseconds(kPatienceMillis), -1,
                        [](const Bytes&) { return true; });
  l.stop();
  server.join();
  ASSERT_FALSE(reply) << "the server took " << reply->size() << " of its 65636 bytes as the whole message";
  EXPECT_NE(reply.error().message.find("65535"), std::string::npos) << reply.error().message;
}

TEST(DnsExchange, SendsTheLargestMessageTcpCanFrame) {
  Listener l;
  ASSERT_TRUE(l.ok());
  std::thread server([&] { echoOneFramedMessage(l); });
  Bytes message(65535, 0x5a);
  auto reply = exchange(l.server(), message, Transport::Tcp, std::chrono::milliseconds(kPatienceMillis), -1,
                        [](const Bytes&) { return true; });
  server.join();
  ASSERT_TRUE(reply) << reply.error().message;
  EXPECT_EQ(*reply, message);
}

// A port was read with atoi: what followed its digits was dropped, and a number past
// int's range (undefined behaviour) wrapped into a valid-looking port.
TEST(DnsServerAddress, RefusesAPortWithMoreThanDigits) {
  for (const char* text : {"192.0.2.53:53x", "192.0.2.53: 53", "192.0.2.53:+53", "[2001:db8::53]:53junk",
                           "192.0.2.53:4295032831", "[2001:db8::53]:99999999999999999999"}) {
    auto s = parseServer(text);
    EXPECT_FALSE(s) << text << " was taken as " << s->describe();
  }
}

TEST(DnsServerAddress, ReadsAddressesWithAndWithoutPort) {
  auto v4 = parseServer("192.0.2.53:5353");
  ASSERT_TRUE(v4) << v4.error().message;
  EXPECT_EQ(v4->address, "192.0.2.53");
  EXPECT_EQ(v4->port, 5353);
  auto v6 = parseServer("[2001:db8::53]:65535");
  ASSERT_TRUE(v6) << v6.error().message;
  EXPECT_EQ(v6->address, "2001:db8::53");
  EXPECT_EQ(v6->port, 65535);
  auto bare = parseServer("2001:db8::53");
  ASSERT_TRUE(bare) << bare.error().message;
  EXPECT_EQ(bare->port, 53);
  EXPECT_FALSE(parseServer("192.0.2.53:0"));
  EXPECT_FALSE(parseServer("192.0.2.53:65536"));
  EXPECT_FALSE(parseServer("[2001:db8::53]:"));
}
