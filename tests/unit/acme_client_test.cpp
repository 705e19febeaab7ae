#include "acme/client.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <set>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "crypto/encoding.h"
#include "core/time_format.h"
#include "acme/wire.h"
#include "renew/ari.h"

using namespace sc;
using namespace std::chrono;

namespace {

// A CA that answers from a script, and remembers what it was sent.
class ScriptedCa : public acme::HttpTransport {
 public:
  struct Sent {
    std::string method, url, body;
  };
  std::deque<acme::HttpResponse> replies;
  std::vector<Sent> sent;
  int nonces = 0;

  Result<acme::HttpResponse> get(const std::string& url) override { return next("GET", url, ""); }
  Result<acme::HttpResponse> head(const std::string& url) override {
    sent.push_back({"HEAD", url, ""});
    acme::HttpResponse r;
    r.status = 200;
    r.headers["replay-nonce"] = {"head-nonce-" + std::to_string(++nonces)};
    return r;
  }
  Result<acme::HttpResponse> post(const std::string& url, const std::string& body, const std::string&) override {
    return next("POST", url, body);
  }
  void setDeadline(std::optional<std::chrono::steady_clock::time_point>) override {}
  // The nonce inside a JWS body that was sent.
  static std::string nonceOf(const std::string& jws) {
    auto obj = Poco::JSON::Parser().parse(jws).extract<Poco::JSON::Object::Ptr>();
    auto header = *crypto::base64urlDecode(obj->getValue<std::string>("protected"));
    return Poco::JSON::Parser().parse(header).extract<Poco::JSON::Object::Ptr>()->getValue<std::string>("nonce");
  }

 private:
  Result<acme::HttpResponse> next(const std::string& method, const std::string& url, const std::string& body) {
    sent.push_back({method, url, body});
    if (replies.empty()) return fail("no scripted reply for " + method + " " + url);
    auto r = replies.front();
    replies.pop_front();
    return r;
  }
};

class NoSleep : public acme::Sleeper {
 public:
  void sleep(milliseconds d) override { slept.push_back(d); }
  std::vector<milliseconds> slept;
};

acme::HttpResponse reply(int status, const std::string& body, std::map<std::string, std::vector<std::string>> headers = {}) {
  acme::HttpResponse r;
  r.status = status;
  r.body = body;
  r.headers = std::move(headers);
  return r;
}

const std::string kDirectory = R"({"newNonce":"https://ca/nonce","newAccount":"https://ca/acct","newOrder":"https://ca/order",
  "revokeCert":"https://ca/revoke","renewalInfo":"https://ca/ari/","meta":{"externalAccountRequired":false,
  "profiles":{"classic":"","shortlived":""}}})";

acme::Order anOrder() {
  acme::Order o;
  o.url = "https://ca/order/1";
  o.finalize = "https://ca/fin/1";
  o.identifiers = 1;
  return o;
}

std::string orderJson(const std::string& status) {
  return R"({"status":")" + status + R"(","authorizations":["https://ca/authz/1"],"finalize":"https://ca/fin/1")" +
         (status == "valid" ? R"(,"certificate":"https://ca/cert/1"})" : "}");
}

std::string authz(const std::string& status) {
  return R"({"status":")" + status + R"(","identifier":{"type":"dns","value":"a.test"},"challenges":[{"type":"http-01",
    "url":"https://ca/chall/1","token":"DGyRejmCefe7v4NfDGDKfA-token-0123","status":")" +
         (status == "valid" ? "valid" : "pending") + R"("}]})";
}

struct ClientTest : ::testing::Test {
  ScriptedCa ca;
  NoSleep sleeper;
  crypto::KeySigner key = *crypto::KeySigner::create(*crypto::PrivateKey::generate(KeyType::Ec256));
  acme::Client client{ca, key, "https://ca/dir", sleeper};
};

}  // namespace

TEST_F(ClientTest, BadNonceIsRetriedWithTheNonceTheErrorBrought) {
  ca.replies.push_back(reply(200, kDirectory));
  ca.replies.push_back(reply(400, R"({"type":"urn:ietf:params:acme:error:badNonce","detail":"stale"})",
                             {{"replay-nonce", {"fresh-1"}}}));
  ca.replies.push_back(reply(201, "{}", {{"location", {"https://ca/acct/7"}}, {"replay-nonce", {"n2"}}}));
  auto kid = client.account({"ops@a.test", "", ""}, std::nullopt);
  ASSERT_TRUE(kid) << kid.error().message;
  EXPECT_EQ(*kid, "https://ca/acct/7");
  ASSERT_EQ(ca.sent.size(), 4u);  // directory, HEAD nonce, two POSTs
  EXPECT_EQ(ScriptedCa::nonceOf(ca.sent[2].body), "head-nonce-1");
  EXPECT_EQ(ScriptedCa::nonceOf(ca.sent[3].body), "fresh-1");
}

TEST_F(ClientTest, BadNonceRetriesAreBounded) {
  ca.replies.push_back(reply(200, kDirectory));
  const int retries = sc::acme::RetryPolicy{}.badNonceRetries;
  for (int i = 0; i < retries + 5; ++i)
    ca.replies.push_back(reply(400, R"({"type":"urn:ietf:params:acme:error:badNonce"})", {{"replay-nonce", {"n"}}}));
  auto kid = client.account({}, std::nullopt);
  ASSERT_FALSE(kid);
  EXPECT_NE(kid.error().message.find("badNonce"), std::string::npos);
  EXPECT_EQ(ca.sent.size(), 2u + retries + 1u);  // directory, HEAD nonce, the first try and the retries
}

TEST_F(ClientTest, RateLimitedCarriesRetryAfterAndTheProblemIntact) {
  ca.replies.push_back(reply(200, kDirectory));
  ca.replies.push_back(reply(429,
                             R"({"type":"urn:ietf:params:acme:error:rateLimited","detail":"too many certificates",
                                 "subproblems":[{"type":"urn:ietf:params:acme:error:rejectedIdentifier",
                                 "detail":"forbidden","identifier":{"type":"dns","value":"a.test"}}]})",
                             {{"retry-after", {"7200"}}}));
  auto kid = client.account({}, std::nullopt);
  ASSERT_FALSE(kid);
  EXPECT_EQ(kid.error().retryAfter, seconds(7200));
  EXPECT_NE(kid.error().message.find("rateLimited: too many certificates [a.test: rejectedIdentifier: forbidden]"),
            std::string::npos);
  EXPECT_TRUE(sleeper.slept.empty());  // two hours is the supervisor's to wait, not the request's
}

TEST_F(ClientTest, AShort503IsWaitedOutInline) {
  ca.replies.push_back(reply(200, kDirectory));
  ca.replies.push_back(reply(503, "busy", {{"retry-after", {"2"}}, {"replay-nonce", {"n"}}}));
  ca.replies.push_back(reply(201, "{}", {{"location", {"https://ca/acct/1"}}}));
  ASSERT_TRUE(client.account({}, std::nullopt));
  ASSERT_EQ(sleeper.slept.size(), 1u);
  EXPECT_EQ(sleeper.slept[0], seconds(2));
}

TEST_F(ClientTest, ExternalAccountRequiredWithoutCredentialsIsOneClearError) {
  ca.replies.push_back(reply(200, R"({"newNonce":"https://ca/n","newAccount":"https://ca/a","newOrder":"https://ca/o",
                                                  "meta":{"externalAccountRequired":true}})"));
  auto kid = client.account({}, std::nullopt);
  ASSERT_FALSE(kid);
  EXPECT_NE(kid.error().message.find("requires External Account Binding"), std::string::npos);
  EXPECT_EQ(ca.sent.size(), 1u);  // nothing was posted
}

TEST_F(ClientTest, ExternalAccountBindingIsAnHs256JwsOverTheAccountKey) {
  ca.replies.push_back(reply(200, kDirectory));
  ca.replies.push_back(reply(201, "{}", {{"location", {"https://ca/acct/1"}}}));
  ASSERT_TRUE(client.account({"", "kid-1", crypto::base64url("secret")}, std::nullopt));
  auto body = Poco::JSON::Parser().parse(ca.sent.back().body).extract<Poco::JSON::Object::Ptr>();
  auto payload = *crypto::base64urlDecode(body->getValue<std::string>("payload"));
  auto eab = Poco::JSON::Parser().parse(payload).extract<Poco::JSON::Object::Ptr>()->getObject("externalAccountBinding");
  ASSERT_TRUE(eab);
  auto header = *crypto::base64urlDecode(eab->getValue<std::string>("protected"));
  EXPECT_NE(header.find(R"("alg":"HS256")"), std::string::npos);
  EXPECT_NE(header.find(R"("kid":"kid-1")"), std::string::npos);
  EXPECT_EQ(*crypto::base64urlDecode(eab->getValue<std::string>("payload")), key.jwk());
  auto expected = crypto::hmacSha256("secret", eab->getValue<std::string>("protected") + "." +
                                                   eab->getValue<std::string>("payload"));
  EXPECT_EQ(eab->getValue<std::string>("signature"), crypto::base64url(*expected));
}

TEST_F(ClientTest, RenewalInfoInTheRfcFormat) {
  ca.replies.push_back(reply(200, kDirectory));
  // RFC 9773 section 4.2's example reply
  ca.replies.push_back(reply(200, R"({"suggestedWindow":{"start":"2025-01-02T04:00:00Z","end":"2025-01-03T04:00:00Z"},
                                     "explanationURL":"https://acme.example.com/docs/ari"})",
                             {{"retry-after", {"21600"}}}));
  auto info = client.renewalInfo("aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(ca.sent.back().url, "https://ca/ari/aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
  EXPECT_EQ(formatTime(info->start), "2025-01-02T04:00:00Z");
  EXPECT_EQ(formatTime(info->end), "2025-01-03T04:00:00Z");
  EXPECT_EQ(info->retryAfter, seconds(21600));
  EXPECT_EQ(info->explanationUrl, "https://acme.example.com/docs/ari");
}

TEST_F(ClientTest, ADirectoryWithoutRenewalInfoMeansNoAri) {
  ca.replies.push_back(reply(200, R"({"newNonce":"https://ca/n","newAccount":"https://ca/a","newOrder":"https://ca/o"})"));
  EXPECT_FALSE(client.renewalInfo("x.y"));
  EXPECT_EQ(ca.sent.size(), 1u);
}

TEST_F(ClientTest, OrdersCarryProfileAndReplaces) {
  ca.replies.push_back(reply(200, kDirectory));
  ca.replies.push_back(reply(201, R"({"status":"pending","authorizations":["https://ca/authz/1"],"finalize":"https://ca/fin/1"})",
                             {{"location", {"https://ca/order/1"}}}));
  auto dir = client.directory();
  EXPECT_EQ(dir->profiles, (std::vector<std::string>{"classic", "shortlived"}));
  auto order = client.newOrder({"a.test"}, "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE", "shortlived");
  ASSERT_TRUE(order) << order.error().message;
  EXPECT_EQ(order->url, "https://ca/order/1");
  EXPECT_EQ(order->authorizations, std::vector<std::string>{"https://ca/authz/1"});
  auto body = Poco::JSON::Parser().parse(ca.sent.back().body).extract<Poco::JSON::Object::Ptr>();
  auto payload = *crypto::base64urlDecode(body->getValue<std::string>("payload"));
  EXPECT_NE(payload.find(R"("profile":"shortlived")"), std::string::npos);
  EXPECT_NE(payload.find(R"("replaces":"aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE")"), std::string::npos);
}

TEST_F(ClientTest, AddressesAreOrderedAsIpIdentifiers) {
  ca.replies.push_back(reply(200, kDirectory));
  ca.replies.push_back(reply(201, R"({"status":"pending","authorizations":["https://ca/authz/1","https://ca/authz/2",
    "https://ca/authz/3"],"finalize":"https://ca/fin/1"})", {{"location", {"https://ca/order/1"}}}));
  ASSERT_TRUE(client.newOrder({"a.test", "127.0.0.1", "2001:db8::1"}, "", "shortlived"));
  auto body = Poco::JSON::Parser().parse(ca.sent.back().body).extract<Poco::JSON::Object::Ptr>();
  auto payload = *crypto::base64urlDecode(body->getValue<std::string>("payload"));
  EXPECT_NE(payload.find(R"({"type":"dns","value":"a.test"},{"type":"ip","value":"127.0.0.1"},)"
                         R"({"type":"ip","value":"2001:db8::1"})"),
            std::string::npos)
      << payload;
}

TEST_F(ClientTest, ANewOrderThatFailedInTransitOrWith5xxIsNotSentAgain) {
  ca.replies.push_back(reply(200, kDirectory));
  ca.replies.push_back(reply(500, "oops", {{"replay-nonce", {"n"}}}));
  ca.replies.push_back(reply(201, orderJson("pending"), {{"location", {"https://ca/order/1"}}}));
  auto postsToNewOrder = [&] {
    return std::count_if(ca.sent.begin(), ca.sent.end(), [](const auto& s) { return s.url == "https://ca/order"; });
  };
  EXPECT_FALSE(client.newOrder({"a.test"}, "", ""));
  EXPECT_EQ(postsToNewOrder(), 1);
  ca.replies.clear();  // the next one fails in transit
  EXPECT_FALSE(client.newOrder({"a.test"}, "", ""));
  EXPECT_EQ(postsToNewOrder(), 2);
}

// A short Retry-After is no reason to order again from inside the request: the
// account's pace holds all its lineages until then.
TEST_F(ClientTest, ANewOrderRefusedAsRateLimitedIsNotWaitedOutAndSentAgain) {
  ca.replies.push_back(reply(200, kDirectory));
  ca.replies.push_back(reply(429, R"({"type":"urn:ietf:params:acme:error:rateLimited","detail":"too many new orders"})",
                             {{"retry-after", {"2"}}, {"replay-nonce", {"n"}}}));
  ca.replies.push_back(reply(201, orderJson("pending"), {{"location", {"https://ca/order/1"}}}));
  auto order = client.newOrder({"a.test"}, "", "");
  ASSERT_FALSE(order);
  EXPECT_TRUE(order.error().isProblem(sc::ProblemType::RateLimited));
  EXPECT_EQ(order.error().retryAfter, seconds(2));
  EXPECT_TRUE(sleeper.slept.empty());
  EXPECT_EQ(std::count_if(ca.sent.begin(), ca.sent.end(), [](const auto& s) { return s.url == "https://ca/order"; }), 1);
}

TEST_F(ClientTest, APostAsGetThatGot5xxIsSentAgain) {
  ca.replies.push_back(reply(200, kDirectory));
  ca.replies.push_back(reply(502, "bad gateway", {{"replay-nonce", {"n"}}}));
  ca.replies.push_back(reply(200, authz("valid")));
  auto a = client.authorization("https://ca/authz/1");
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->status, acme::AuthorizationStatus::Valid);
}

TEST_F(ClientTest, PollingHonoursRetryAfterAndOtherwiseStartsBrisk) {
  ca.replies.push_back(reply(200, kDirectory));
  ca.replies.push_back(reply(200, authz("pending"), {{"retry-after", {"3"}}}));
  ca.replies.push_back(reply(200, authz("pending")));
  ca.replies.push_back(reply(200, authz("pending")));
  ca.replies.push_back(reply(200, authz("valid")));
  auto a = client.waitForAuthorization("https://ca/authz/1");
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->status, acme::AuthorizationStatus::Valid);
  // a brisk pause first (the challenge was just answered), the 3 s asked for, then doubling
  EXPECT_EQ(sleeper.slept,
            (std::vector<milliseconds>{milliseconds(10), seconds(3), milliseconds(40), milliseconds(80)}));
}

TEST_F(ClientTest, AFinalizeStillProcessingIsFirstPolledAfterItsRetryAfter) {
  ca.replies.push_back(reply(200, kDirectory));
  ca.replies.push_back(reply(200, orderJson("processing"), {{"retry-after", {"1"}}, {"replay-nonce", {"n"}}}));
  ca.replies.push_back(reply(200, orderJson("valid")));
  auto done = client.finalize(anOrder(), "csr");
  ASSERT_TRUE(done) << done.error().message;
  EXPECT_EQ(done->certificate, "https://ca/cert/1");
  EXPECT_EQ(sleeper.slept, (std::vector<milliseconds>{seconds(1)}));
  ASSERT_EQ(ca.sent.size(), 4u);  // directory, HEAD nonce, finalize, one poll
  EXPECT_EQ(ca.sent[3].url, "https://ca/order/1");
}

TEST_F(ClientTest, AnOrderStillProcessingWithoutRetryAfterIsAskedAgainAfter2MsThenDoubling) {
  ca.replies.push_back(reply(200, kDirectory));
  ca.replies.push_back(reply(200, orderJson("processing"), {{"replay-nonce", {"n"}}}));
  ca.replies.push_back(reply(200, orderJson("processing")));
  ca.replies.push_back(reply(200, orderJson("processing")));
  ca.replies.push_back(reply(200, orderJson("valid")));
  auto done = client.finalize(anOrder(), "csr");
  ASSERT_TRUE(done) << done.error().message;
  EXPECT_EQ(sleeper.slept, (std::vector<milliseconds>{milliseconds(2), milliseconds(4), milliseconds(8)}));
  auto polls = std::count_if(ca.sent.begin(), ca.sent.end(), [](const auto& s) { return s.url == "https://ca/order/1"; });
  EXPECT_EQ(polls, 3);
}

TEST_F(ClientTest, AFinalizeTheCaIsNotReadyForIsRetriedOnceTheOrderIsReady) {
  ca.replies.push_back(reply(200, kDirectory));
  ca.replies.push_back(reply(403, R"({"type":"urn:ietf:params:acme:error:orderNotReady","detail":"pending"})",
                             {{"replay-nonce", {"n1"}}}));
  ca.replies.push_back(reply(200, orderJson("ready"), {{"replay-nonce", {"n2"}}}));
  ca.replies.push_back(reply(200, orderJson("valid")));
  auto done = client.finalize(anOrder(), "csr");
  ASSERT_TRUE(done) << done.error().message;
  EXPECT_EQ(done->certificate, "https://ca/cert/1");
  ASSERT_EQ(ca.sent.size(), 5u);  // directory, HEAD nonce, finalize, the order, finalize again
  EXPECT_EQ(ca.sent[3].url, "https://ca/order/1");
  EXPECT_EQ(ca.sent[4].url, "https://ca/fin/1");
}

TEST_F(ClientTest, AnotherRefusedFinalizeIsAnErrorWithoutRetries) {
  ca.replies.push_back(reply(200, kDirectory));
  ca.replies.push_back(reply(403, R"({"type":"urn:ietf:params:acme:error:badCSR","detail":"key too weak"})",
                             {{"replay-nonce", {"n1"}}}));
  auto done = client.finalize(anOrder(), "csr");
  ASSERT_FALSE(done);
  EXPECT_NE(done.error().message.find("finalize the order"), std::string::npos);
  EXPECT_NE(done.error().message.find("key too weak"), std::string::npos);
  EXPECT_EQ(ca.sent.size(), 3u);
}

TEST(AcmeParsing, RetryAfterAsSecondsOrHttpDate) {
  TimePoint now = fromUnixSeconds(1'445'412'480);  // Wed, 21 Oct 2015 07:28:00 GMT
  EXPECT_EQ(acme::wire::retryAfter("120", now), seconds(120));
  EXPECT_EQ(acme::wire::retryAfter("Wed, 21 Oct 2015 07:30:00 GMT", now), seconds(120));
  EXPECT_EQ(acme::wire::retryAfter("", now), seconds(0));
  EXPECT_EQ(acme::wire::retryAfter("soon", now), seconds(0));
}

TEST(AcmeParsing, RetryAfterIsRangeCheckedWhateverTheCaSays) {
  TimePoint now = fromUnixSeconds(1'445'412'480);
  EXPECT_EQ(acme::wire::retryAfter("99999999", now), acme::wire::kMaxRetryAfter);
  EXPECT_EQ(acme::wire::retryAfter("99999999999999999999999999", now), acme::wire::kMaxRetryAfter);
  EXPECT_EQ(acme::wire::retryAfter("Fri, 31 Dec 9999 23:59:59 GMT", now), acme::wire::kMaxRetryAfter);
  EXPECT_EQ(acme::wire::retryAfter("Thu, 01 Jan 1970 00:00:00 GMT", now), seconds(0));  // in the past
  EXPECT_EQ(acme::wire::retryAfter("-5", now), seconds(0));
}

TEST(AcmeParsing, ANonProblemBodyStillSaysWhatCameBack) {
  auto p = acme::parseProblem(reply(502, "<html>Bad Gateway</html>"));
  EXPECT_EQ(p.describe(), "HTTP 502: <html>Bad Gateway</html>");
}

TEST(Ari, TheRenewalTimeFallsInTheWindowsFirstHalfAndIsStablePerCertificate) {
  TimePoint start = fromUnixSeconds(1'735'790'400), end = start + hours(24);
  std::set<TimePoint> seen;
  for (int i = 0; i < 50; ++i) {
    std::string serial = "serial-" + std::to_string(i);
    TimePoint t = renew::ariRenewalTime(start, end, crypto::sha256(serial));
    EXPECT_GE(t, start);
    EXPECT_LT(t, start + hours(12));  // the second half is left for retries
    EXPECT_EQ(t, renew::ariRenewalTime(start, end, crypto::sha256(serial)));
    seen.insert(t);
  }
  EXPECT_GT(seen.size(), 40u);  // spread over the window, not bunched
  EXPECT_EQ(renew::ariRenewalTime(start, start, "x"), start);
  EXPECT_EQ(renew::ariRenewalTime(start, start + seconds(1), "x"), start);
}

// The moment is fixed by the serial alone, whatever the toolchain: SHA-256's first
// eight bytes modulo half the window (python3: int.from_bytes(sha256(s)[:8]) % 43200).
TEST(Ari, TheRenewalTimeOfASerialIsTheSameOnEveryBuild) {
  TimePoint start = fromUnixSeconds(1'735'790'400), end = start + hours(24);
  EXPECT_EQ(renew::ariRenewalTime(start, end, crypto::sha256("4a0f1c0de5e7a1b2")), start + seconds(28960));
}
