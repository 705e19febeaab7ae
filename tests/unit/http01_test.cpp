#include "http01/responder.h"

#include <gtest/gtest.h>

#include <thread>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>

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
  auto responder = http01::Responder::bind("127.0.0.1", 0, tokens);
  ASSERT_TRUE(responder) << responder.error().message;
  (*responder)->start();
  int port = (*responder)->port();
  EXPECT_EQ(get(port, "/.well-known/acme-challenge/unknown"), 404);
  EXPECT_EQ(get(port, "/elsewhere"), 404);
  EXPECT_EQ(tokens->servedCount(), 0u);
  EXPECT_EQ(get(port, "/.well-known/acme-challenge/tok-1"), 200);
  EXPECT_EQ(tokens->servedCount(), 1u);
  (*responder)->stop();
}
