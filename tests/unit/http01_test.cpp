#include "http01/responder.h"

#include <gtest/gtest.h>

#include <atomic>

#include <thread>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/StreamSocket.h>

#include "http01/connection_loop.h"

using namespace sc;
using namespace std::chrono;

namespace {

class RecordingSleeper : public acme::Sleeper {
 public:
  void sleep(milliseconds d) override { slept.push_back(d); }
  std::vector<milliseconds> slept;
};

struct FetchAwareSleeperTest : ::testing::Test {
  http01::TokenStore tokens;
  RecordingSleeper inner;
  http01::FetchAwareSleeper sleeper{inner, tokens};
};

milliseconds timed(const std::function<void()>& f) {
  auto start = steady_clock::now();
  f();
  return duration_cast<milliseconds>(steady_clock::now() - start);
}

int get(int port, const std::string& path) {
  Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
  Poco::Net::HTTPRequest req(Poco::Net::HTTPRequest::HTTP_GET, path, Poco::Net::HTTPMessage::HTTP_1_1);
  session.sendRequest(req);
  Poco::Net::HTTPResponse res;
  session.receiveResponse(res);
  return res.getStatus();
}

// A client that connects, sends the start of a request and nothing more.
std::vector<Poco::Net::StreamSocket> idleConnections(int port, int n) {
  std::vector<Poco::Net::StreamSocket> held;
  for (int i = 0; i < n; ++i) {
    held.emplace_back(Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(port)));
    held.back().sendBytes("GET /", 5);
  }
  return held;
}

// True when the server closed the connection within `d`.
bool closedWithin(Poco::Net::StreamSocket& s, milliseconds d) {
  s.setReceiveTimeout(Poco::Timespan(d.count() * 1000));
  char c;
  try {
    return s.receiveBytes(&c, 1) == 0;
  } catch (const Poco::Exception&) {
    return false;  // still open at the deadline
  }
}

std::unique_ptr<http01::Responder> startResponder(std::shared_ptr<http01::TokenStore> tokens, http01::Limits limits) {
  auto responder = http01::Responder::bind("127.0.0.1", 0, std::move(tokens), limits);
  if (!responder) throw std::runtime_error(responder.error().message);
  (*responder)->start();
  return std::move(*responder);
}

}  // namespace

TEST_F(FetchAwareSleeperTest, APollPauseEndsAGraceAfterTheCaFetchesAToken) {
  std::thread ca([&] {
    std::this_thread::sleep_for(milliseconds(20));
    tokens.noteServed();
  });
  auto took = timed([&] { sleeper.pollPause(seconds(30)); });
  ca.join();
  EXPECT_LT(took, seconds(10));  // not the 30 s asked for
  EXPECT_EQ(inner.slept, (std::vector<milliseconds>{http01::FetchAwareSleeper::kVerdictGrace}));
}

TEST_F(FetchAwareSleeperTest, AFetchBeforeThePauseEndsItAndCountsOnlyOnce) {
  tokens.noteServed();  // the CA was quicker than the first poll
  auto first = timed([&] { sleeper.pollPause(seconds(30)); });
  EXPECT_LT(first, seconds(10));
  auto second = timed([&] { sleeper.pollPause(milliseconds(30)); });  // no new fetch: the whole pause
  EXPECT_GE(second, milliseconds(30));
  EXPECT_EQ(inner.slept.size(), 1u);
}

TEST_F(FetchAwareSleeperTest, OtherWaitsAreNotShortened) {
  tokens.noteServed();
  sleeper.sleep(seconds(3));  // a Retry-After or a backoff
  EXPECT_EQ(inner.slept, (std::vector<milliseconds>{seconds(3)}));
}

TEST(Responder, CountsOnlyTokensItAnswered) {
  auto tokens = std::make_shared<http01::TokenStore>();
  tokens->publish("tok-1", "tok-1.thumb");
  auto responder = startResponder(tokens, {});
  int port = responder->port();
  EXPECT_EQ(get(port, "/.well-known/acme-challenge/unknown"), 404);
  EXPECT_EQ(get(port, "/elsewhere"), 404);
  EXPECT_EQ(tokens->servedCount(), 0u);
  EXPECT_EQ(get(port, "/.well-known/acme-challenge/tok-1"), 200);
  EXPECT_EQ(tokens->servedCount(), 1u);
  responder->stop();
}

TEST(Responder, AnswersWhileMoreIdleConnectionsThanItHoldsStayOpen) {
  auto tokens = std::make_shared<http01::TokenStore>();
  tokens->publish("tok-1", "tok-1.thumb");
  http01::Limits limits;
  limits.maxConnections = 8;
  limits.timeoutSeconds = 30;
  auto responder = startResponder(tokens, limits);
  auto held = idleConnections(responder->port(), 20);
  EXPECT_EQ(get(responder->port(), "/.well-known/acme-challenge/tok-1"), 200);
  EXPECT_TRUE(closedWithin(held.front(), seconds(5)));  // the oldest made room
  EXPECT_FALSE(closedWithin(held.back(), milliseconds(50)));
}

TEST(Responder, DropsAConnectionThatSendsNoRequestInTime) {
  http01::Limits limits;
  limits.timeoutSeconds = 1;
  auto responder = startResponder(std::make_shared<http01::TokenStore>(), limits);
  auto held = idleConnections(responder->port(), 1);
  EXPECT_TRUE(closedWithin(held.front(), seconds(10)));
}

TEST(Responder, AMalformedOrOversizedRequestIsRefusedAndClosed) {
  auto responder = startResponder(std::make_shared<http01::TokenStore>(), {});
  Poco::Net::StreamSocket s(Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(responder->port())));
  std::string garbage = "\x01\x02 nonsense\r\n\r\n";
  s.sendBytes(garbage.data(), static_cast<int>(garbage.size()));
  char buf[64] = {0};
  s.setReceiveTimeout(Poco::Timespan(5, 0));
  int n = s.receiveBytes(buf, sizeof buf - 1);
  EXPECT_EQ(std::string(buf, static_cast<std::size_t>(std::max(n, 0))).substr(0, 12), "HTTP/1.1 400");
  Poco::Net::StreamSocket big(Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(responder->port())));
  std::string head = "GET /" + std::string(20000, 'a');
  big.sendBytes(head.data(), static_cast<int>(head.size()));
  big.setReceiveTimeout(Poco::Timespan(5, 0));
  n = big.receiveBytes(buf, sizeof buf - 1);
  EXPECT_EQ(std::string(buf, static_cast<std::size_t>(std::max(n, 0))).substr(0, 12), "HTTP/1.1 431");
}

// An answer far larger than a socket's buffer reaches a peer that reads it slowly,
// whole, while the loop goes on answering others.
TEST(ConnectionLoop, ALargeAnswerIsSentAsThePeerReadsIt) {
  auto socket = http01::listenOn("127.0.0.1", 0, 16, "test");
  ASSERT_TRUE(socket) << socket.error().message;
  const std::string body(8 << 20, 'x');
  std::atomic<int> cuts{0};
  http01::ConnectionLoop loop(
      *socket, {16, 10, 4096},
      [&](const std::string& head, const std::string&) {
        bool big = head.rfind("GET /big ", 0) == 0;
        return http01::httpAnswer(200, "text/plain", big ? body : "small\n", true);
      },
      [&](http01::ConnectionLoop::Cut) { ++cuts; }, "test");
  loop.begin();
  Poco::Net::StreamSocket slow(Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(loop.port())));
  std::string req = "GET /big HTTP/1.1\r\nHost: x\r\n\r\n";
  slow.sendBytes(req.data(), static_cast<int>(req.size()));
  std::this_thread::sleep_for(milliseconds(200));  // the loop has filled the socket and waits
  EXPECT_EQ(get(loop.port(), "/small"), 200);      // others are answered meanwhile
  std::string got;
  char buf[65536];
  for (int n; (n = slow.receiveBytes(buf, sizeof buf)) > 0;) got.append(buf, static_cast<std::size_t>(n));
  EXPECT_EQ(got.size() - got.find("\r\n\r\n") - 4, body.size());
  EXPECT_EQ(cuts, 0);
  loop.end();
}
