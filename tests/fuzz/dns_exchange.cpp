// sc::dns::exchange, sidecert's own DNS transport (sockets, poll, TCP framing),
// against a fake server on loopback that the input scripts: what it sends, over UDP
// or TCP, in how many writes, with which lengths, how the connection ends, and when
// the stop descriptor fires. Beyond "no crash, no sanitizer finding" it checks:
//   - a value is only ever a reply the server framed whole and `accept` took: the
//     first such datagram over UDP, the first length-prefixed message over TCP;
//   - a whole, accepted reply on a connection that ends cleanly is returned;
//   - the query reaches the server as sent (over TCP, after its true length);
//   - a stop ends the wait as Cancelled within a second, and no call outlives its
//     timeout by more than a second.
//
// Input: [flags][id:2][query size][steps...]; each step is an op byte and its
// operands: 0 bytes [n][n bytes], 1 a reply of N bytes [N:2] (N = 0 and 65535 are
// TCP's extremes; the op's bit 2 gives it the id asked, else another), 2 a pause
// (TCP: the client reads what came so far), 3 over UDP a datagram from another
// socket [n][n bytes] that the client must never take, over TCP bytes as op 0.
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "dns/exchange.h"
#include "fuzz_check.h"

using namespace sc::dns;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t kMaxSteps = 24;
constexpr std::size_t kMaxUdpPayload = 65507;  // IPv4's largest datagram payload
constexpr auto kServerPatience = std::chrono::seconds(2);  // every wait of the fake server ends by then
constexpr auto kGrace = std::chrono::seconds(1);           // what a stop or a timeout may take to end a call

enum Flag : std::uint8_t {
  kTcp = 1,
  kStopFirst = 2,   // the stop fires once the query has arrived, before any reply
  kReset = 4,       // TCP: end with RST instead of FIN
  kSkipQuery = 8,   // TCP: reply without reading the query
  kHold = 16,       // never end the exchange: the client must end it by its (short) timeout
  kHugeQuery = 32,  // a query over 65535 bytes, which no TCP length can frame
};

struct Step {
  enum Kind { Send, Pause, Spoof } kind;
  Bytes data;
};

struct Script {
  std::uint8_t flags = 0;
  std::uint16_t id = 0;
  Bytes query;
  std::vector<Step> steps;
  bool has(Flag f) const { return flags & f; }
};

Bytes header(std::uint16_t id, bool isReply, std::size_t size) {
  Bytes b(size, 0);
  if (size >= 1) b[0] = static_cast<std::uint8_t>(id >> 8);
  if (size >= 2) b[1] = static_cast<std::uint8_t>(id);
  if (size >= 3 && isReply) b[2] = 0x80;
  return b;
}

Script parseScript(const std::uint8_t* data, std::size_t size) {
  Script s;
  s.flags = data[0];
  s.id = static_cast<std::uint16_t>(data[1] << 8 | data[2]);
  std::size_t querySize = 12 + data[3] * 4;
  if (s.has(kHugeQuery)) querySize = 65536 + data[3];
  s.query = header(s.id, false, querySize);
  std::size_t at = 4;
  auto take = [&](std::size_t n) {
    n = std::min(n, size - at);
    Bytes b(data + at, data + at + n);
    at += n;
    return b;
  };
  while (at < size && s.steps.size() < kMaxSteps) {
    std::uint8_t op = data[at++];
    if ((op & 3) == 2) {
      s.steps.push_back({Step::Pause, {}});
    } else if ((op & 3) == 1) {
      Bytes n = take(2);
      std::size_t len = n.size() == 2 ? (n[0] << 8 | n[1]) : 0;
      if (!s.has(kTcp)) len = std::min(len, kMaxUdpPayload);
      std::uint16_t replyId = (op & 4) ? s.id : static_cast<std::uint16_t>(s.id + 1);
      s.steps.push_back({Step::Send, header(replyId, true, len)});
    } else {
      Bytes n = take(1);
      Bytes b = take(n.empty() ? 0 : n[0]);
      bool spoof = (op & 3) == 3 && !s.has(kTcp);
      s.steps.push_back({spoof ? Step::Spoof : Step::Send, std::move(b)});
    }
  }
  return s;
}

bool accepted(const Bytes& reply, std::uint16_t id) {
  return reply.size() >= 12 && (reply[0] << 8 | reply[1]) == id && (reply[2] & 0x80);
}

// What the client and the fake server share: how many replies the client read (the
// UDP server sends in step with them, so none is lost to a full buffer), whether the
// client is done, and when the stop fired.
struct Shared {
  std::mutex m;
  std::condition_variable cv;
  int accepts = 0;
  bool done = false;
  int doneFd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  int stopFd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  std::atomic<bool> stopped{false};
  Clock::time_point stoppedAt;
  bool queryIntact = true;
  std::vector<Bytes> datagrams;  // UDP: the replies the server did send, in order

  ~Shared() {
    ::close(doneFd);
    ::close(stopFd);
  }
  void fireStop() {
    stoppedAt = Clock::now();
    stopped = true;
    std::uint64_t one = 1;
    FUZZ_CHECK(::write(stopFd, &one, sizeof one) == sizeof one);
  }
  void finish() {
    {
      std::lock_guard lock(m);
      done = true;
    }
    cv.notify_all();
    std::uint64_t one = 1;
    FUZZ_CHECK(::write(doneFd, &one, sizeof one) == sizeof one);
  }
  void counted() {
    {
      std::lock_guard lock(m);
      ++accepts;
    }
    cv.notify_all();
  }
  // Until the client has read `n` replies or is done, at most kServerPatience.
  void awaitReads(int n) {
    std::unique_lock lock(m);
    cv.wait_for(lock, kServerPatience, [&] { return done || accepts >= n; });
  }
  bool isDone() {
    std::lock_guard lock(m);
    return done;
  }
  // Until `fd` has `events`; false once the client is done or after kServerPatience.
  bool awaitFd(int fd, short events) {
    pollfd fds[2] = {{fd, events, 0}, {doneFd, POLLIN, 0}};
    int n = ::poll(fds, 2, static_cast<int>(std::chrono::milliseconds(kServerPatience).count()));
    return n > 0 && !(fds[1].revents & POLLIN) && fds[0].revents;
  }
};

int loopbackSocket(int type) {
  int fd = ::socket(AF_INET, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  FUZZ_CHECK(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  FUZZ_CHECK(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  return fd;
}

int portOf(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  FUZZ_CHECK(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  return ntohs(a.sin_port);
}

// One listener for the process: a fresh one per input would leave a port in
// TIME_WAIT each time and run out of ports within a minute.
int tcpListener() {
  static int fd = [] {
    int l = loopbackSocket(SOCK_STREAM);
    FUZZ_CHECK(::listen(l, 16) == 0);
    return l;
  }();
  return fd;
}

// Connections an earlier input left unaccepted (its client gave up first).
void drainListener(int listener) {
  for (int i = 0; i < 16; ++i) {
    int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return;
    ::close(fd);
  }
}

bool sendAllTo(Shared& sh, int fd, const Bytes& b) {
  std::size_t off = 0;
  while (off < b.size()) {
    if (!sh.awaitFd(fd, POLLOUT)) return false;
    ssize_t n = ::send(fd, b.data() + off, b.size() - off, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n < 0) return false;  // the client closed: it is done with this exchange
    off += static_cast<std::size_t>(n);
  }
  return true;
}

bool readExactly(Shared& sh, int fd, Bytes& b) {
  std::size_t off = 0;
  while (off < b.size()) {
    if (!sh.awaitFd(fd, POLLIN)) return false;
    ssize_t n = ::recv(fd, b.data() + off, b.size() - off, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}

// The query as it came over TCP: its length prefix must be its true length.
void checkTcpQuery(Shared& sh, int fd, const Bytes& query) {
  Bytes len(2);
  if (!readExactly(sh, fd, len)) return;
  std::size_t announced = len[0] << 8 | len[1];
  if (announced != query.size()) {
    sh.queryIntact = false;
    return;
  }
  Bytes got(announced);
  if (readExactly(sh, fd, got) && got != query) sh.queryIntact = false;
}

void serveTcp(Shared& sh, const Script& s, int listener) {
  if (!sh.awaitFd(listener, POLLIN)) return;
  int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (fd < 0) return;
  int one = 1;
  FUZZ_CHECK(::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0);
  if (!s.has(kSkipQuery)) checkTcpQuery(sh, fd, s.query);
  if (s.has(kStopFirst)) sh.fireStop();
  for (const auto& step : s.steps) {
    if (step.kind == Step::Pause) std::this_thread::sleep_for(std::chrono::microseconds(300));
    else if (!sendAllTo(sh, fd, step.data)) break;
  }
  if (s.has(kHold)) {
    while (!sh.isDone() && sh.awaitFd(fd, POLLIN)) {
      Bytes sink(4096);
      if (::recv(fd, sink.data(), sink.size(), 0) <= 0) break;
    }
  } else if (s.has(kReset)) {
    linger l{1, 0};
    FUZZ_CHECK(::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l) == 0);
  }
  ::close(fd);
}

void serveUdp(Shared& sh, const Script& s, int fd) {
  if (!sh.awaitFd(fd, POLLIN)) return;
  Bytes query(70000);
  sockaddr_storage client{};
  socklen_t len = sizeof client;
  ssize_t n = ::recvfrom(fd, query.data(), query.size(), 0, reinterpret_cast<sockaddr*>(&client), &len);
  if (n < 0) return;
  if (Bytes(query.begin(), query.begin() + n) != s.query) sh.queryIntact = false;
  if (s.has(kStopFirst)) sh.fireStop();
  int spoofer = loopbackSocket(SOCK_DGRAM);
  int sent = 0;
  for (const auto& step : s.steps) {
    if (sh.isDone()) break;
    if (step.kind == Step::Pause) continue;
    int from = step.kind == Step::Spoof ? spoofer : fd;
    if (::sendto(from, step.data.data(), step.data.size(), 0, reinterpret_cast<sockaddr*>(&client), len) < 0) continue;
    if (step.kind != Step::Send) continue;
    sh.datagrams.push_back(step.data);
    sh.awaitReads(++sent);
  }
  ::close(spoofer);
  // Nothing more will come: stop the client's wait, unless it must time out.
  if (!s.has(kHold) && !sh.isDone() && !sh.stopped) sh.fireStop();
  sh.awaitReads(1 << 30);
}

// The first message of a TCP byte stream, when it is all there.
std::optional<Bytes> firstFramed(const Script& s) {
  Bytes stream;
  for (const auto& step : s.steps)
    if (step.kind == Step::Send) stream.insert(stream.end(), step.data.begin(), step.data.end());
  if (stream.size() < 2) return std::nullopt;
  std::size_t len = stream[0] << 8 | stream[1];
  if (stream.size() < 2 + len) return std::nullopt;
  return Bytes(stream.begin() + 2, stream.begin() + 2 + static_cast<std::ptrdiff_t>(len));
}

// The first datagram the client should take of those the server sent.
std::optional<Bytes> firstAcceptedDatagram(const Script& s, const std::vector<Bytes>& sent) {
  for (const auto& d : sent)
    if (accepted(d, s.id)) return d;
  return std::nullopt;
}

void checkTcpOutcome(const Script& s, const sc::Result<Bytes>& r) {
  auto framed = firstFramed(s);
  if (r) FUZZ_CHECK(framed && *r == *framed);
  bool clean = !s.has(kReset) && !s.has(kSkipQuery) && !s.has(kHold) && !s.has(kStopFirst) && !s.has(kHugeQuery);
  if (clean && framed && accepted(*framed, s.id)) FUZZ_CHECK(r.has_value());
}

void checkUdpOutcome(const Script& s, const std::vector<Bytes>& sent, const sc::Result<Bytes>& r) {
  auto first = firstAcceptedDatagram(s, sent);
  if (r) FUZZ_CHECK(first && *r == *first);
  bool clean = !s.has(kStopFirst) && !s.has(kHugeQuery) && !s.has(kHold);
  if (clean && first) FUZZ_CHECK(r.has_value());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 4) return 0;
  Script s = parseScript(data, size);
  Shared sh;
  FUZZ_CHECK(sh.doneFd >= 0 && sh.stopFd >= 0);
  int udp = -1;
  int port = 0;
  if (s.has(kTcp)) {
    drainListener(tcpListener());
    port = portOf(tcpListener());
  } else {
    udp = loopbackSocket(SOCK_DGRAM);
    port = portOf(udp);
  }
  std::thread server([&] { s.has(kTcp) ? serveTcp(sh, s, tcpListener()) : serveUdp(sh, s, udp); });

  auto timeout = s.has(kHold) ? std::chrono::milliseconds(30) : std::chrono::milliseconds(3000);
  auto accept = [&](const Bytes& reply) {
    bool ok = accepted(reply, s.id);
    sh.counted();
    return ok;
  };
  auto start = Clock::now();
  auto r = exchange(Server{"127.0.0.1", port}, s.query, s.has(kTcp) ? Transport::Tcp : Transport::Udp, timeout,
                    sh.stopFd, accept);
  auto end = Clock::now();
  sh.finish();
  server.join();
  if (udp >= 0) ::close(udp);

  FUZZ_CHECK(end - start <= timeout + kGrace);
  FUZZ_CHECK(sh.queryIntact);
  if (r) FUZZ_CHECK(accepted(*r, s.id));
  if (s.has(kStopFirst)) FUZZ_CHECK(!r);
  // Under load a held exchange's 30 ms may run out before the server fires the stop.
  if (s.has(kStopFirst) && !s.has(kHugeQuery) && !s.has(kHold)) FUZZ_CHECK(r.error().is(sc::ErrorKind::Cancelled));
  if (!r && r.error().is(sc::ErrorKind::Cancelled)) FUZZ_CHECK(sh.stopped && end - sh.stoppedAt <= kGrace);
  if (s.has(kHugeQuery)) FUZZ_CHECK(!r);
  s.has(kTcp) ? checkTcpOutcome(s, r) : checkUdpOutcome(s, sh.datagrams, r);
  return 0;
}
