#include "sources/acme_source.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <set>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "acme/challenge_publisher.h"
#include "core/time_format.h"
#include "sources/http01_solver.h"
#include "crypto/cert.h"
#include "crypto/encoding.h"
#include "store/posix_fs.h"
#include "test_support.h"

using namespace sc;

namespace {

// A CA that answers by path, each reply with a fresh nonce, and remembers every
// request and the JWS payloads of its POSTs.
class RoutedCa : public acme::HttpTransport {
 public:
  using Handler = std::function<acme::HttpResponse(const std::string& payload)>;
  std::map<std::string, Handler> routes;  // by path: "/order"
  std::vector<std::string> sent;          // "POST /order"
  std::vector<std::string> payloads;      // decoded, in order

  Result<acme::HttpResponse> get(const std::string& url) override { return answer("GET", url, ""); }
  Result<acme::HttpResponse> head(const std::string& url) override { return answer("HEAD", url, ""); }
  Result<acme::HttpResponse> post(const std::string& url, const std::string& body, const std::string&) override {
    auto obj = Poco::JSON::Parser().parse(body).extract<Poco::JSON::Object::Ptr>();
    std::string payload = crypto::base64urlDecode(obj->getValue<std::string>("payload")).value_or("");
    payloads.push_back(payload);
    return answer("POST", url, payload);
  }
  int count(const std::string& request) const { return static_cast<int>(std::count(sent.begin(), sent.end(), request)); }
  void setDeadline(std::optional<std::chrono::steady_clock::time_point> d) override { deadlines.push_back(d); }
  std::vector<std::optional<std::chrono::steady_clock::time_point>> deadlines;  // as set and lifted

 private:
  Result<acme::HttpResponse> answer(const std::string& method, const std::string& url, const std::string& payload) {
    std::string path = url.substr(url.find('/', std::string("https://").size()));
    sent.push_back(method + " " + path);
    acme::HttpResponse r;
    if (method == "HEAD") {
      r.status = 200;
    } else if (auto route = routes.find(path); route != routes.end()) {
      r = route->second(payload);
    } else {
      r.status = 404;
      r.body = R"({"type":"urn:ietf:params:acme:error:malformed","detail":"no such resource"})";
    }
    r.headers["replay-nonce"] = {"nonce-" + std::to_string(++nonces_)};
    return r;
  }
  int nonces_ = 0;
};

acme::HttpResponse reply(int status, const std::string& body, const std::string& location = "") {
  acme::HttpResponse r;
  r.status = status;
  r.body = body;
  if (!location.empty()) r.headers["location"] = {location};
  return r;
}

acme::HttpResponse problem(int status, const std::string& type, const std::string& detail) {
  return reply(status, R"({"type":"urn:ietf:params:acme:error:)" + type + R"(","detail":")" + detail + R"("})");
}

class NoSleep : public acme::Sleeper {
 public:
  void sleep(std::chrono::milliseconds) override {}
};

// What the responder would serve: tokens published and not yet withdrawn.
class RecordingPublisher : public acme::ChallengePublisher {
 public:
  void publish(const std::string& token, const std::string&) override {
    live.insert(token);
    ++published;
  }
  void withdraw(const std::string& token) override { live.erase(token); }
  std::set<std::string> live;
  int published = 0;
};

// A self-check that fails until told otherwise, and remembers what it was asked
// and whether the token was being served then.
class ScriptedCheck : public acme::ChallengeCheck {
 public:
  explicit ScriptedCheck(const RecordingPublisher& p) : publisher_(p) {}
  Status confirm(const std::vector<acme::PublishedChallenge>& challenges) override {
    asked = challenges;
    for (const auto& c : challenges) servedWhenAsked = servedWhenAsked && publisher_.live.count(c.token);
    if (passes) return {};
    return fail("gateway task 1 answered HTTP 502");
  }
  bool passes = false, servedWhenAsked = true;
  std::vector<acme::PublishedChallenge> asked;

 private:
  const RecordingPublisher& publisher_;
};

class CountingJournal : public sources::OrderJournal {
 public:
  Status beforeOrder() override {
    ++orders;
    return {};
  }
  void orderPlaced(const store::PendingOrder& order) override {
    ++placed;
    last = order;
  }
  std::optional<store::PendingOrder> last;
  void orderEnded() override { ++ended; }
  int orders = 0, placed = 0, ended = 0;
};

const char* const kDirectory = R"({"newNonce":"https://ca/nonce","newAccount":"https://ca/acct",
  "newOrder":"https://ca/order","revokeCert":"https://ca/revoke","renewalInfo":"https://ca/ari/"})";

std::string pendingOrder() {
  return R"({"status":"pending","identifiers":[{"type":"dns","value":"a.test"}],
    "authorizations":["https://ca/authz/1"],"finalize":"https://ca/fin/1"})";
}

std::string authz(const std::string& status) {
  return R"({"status":")" + status + R"(","identifier":{"type":"dns","value":"a.test"},"challenges":[{"type":"http-01",
    "url":"https://ca/chall/1","token":"DGyRejmCefe7v4NfDGDKfA-token-0123","status":"pending",
    "error":{"type":"urn:ietf:params:acme:error:unauthorized","detail":"404 at the challenge path"}}]})";
}

// A leaf with an Authority Key Identifier, so that a renewal of it names it in `replaces`.
const char* const kLeafWithAki = R"(-----BEGIN CERTIFICATE-----
MIIBejCCASCgAwIBAgIUUScXXWTqRWM6560zPufCjp2B2QwwCgYIKoZIzj0EAwIw
EjEQMA4GA1UEAwwHVGVzdCBDQTAeFw0yNjExMzAyMjU1MDRaFw0zNjExMjcyMjU1
MDRaMBExDzANBgNVBAMMBmEudGVzdDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IA
BNls1DOnQxgOOMGDom7cZi69Ma5hu93AKskSZ0cGwTeCNsqZlUZWIjPZKIna04CL
heDIcg9bHyq+ClIHikfW3/qjVTBTMBEGA1UdEQQKMAiCBmEudGVzdDAfBgNVHSME
GDAWgBTgX1un40U9vQy1xxTktE6itBiF5DAdBgNVHQ4EFgQUSzXk+Q5NXjrEzfEC
/Zytf07h4f4wCgYIKoZIzj0EAwIDSAAwRQIhAK1Jmv97soLyqhohu5SDSTo7YbJ+
G8wE9WxYrtbo4d5iAiAfXnClhOk0QAXmFG4WZkJtQUqQksfBO6w8hLsc3NnmQw==
-----END CERTIFICATE-----
)";

struct AcmeSourceTest : ::testing::Test {
  TempDir dir;
  store::PosixFileSystem fs;
  store::AccountStore accounts{fs, dir.path()};
  RoutedCa ca;
  NoSleep sleeper;
  RecordingPublisher publisher;
  CountingJournal journal;
  int accountsMade = 0;
  sources::Http01Solver http01{publisher, nullptr};
  sources::AcmeSource source{{"https://ca/dir", {"ops@a.test", "", ""}, "", "", KeyType::Ec256},
                             ca, sleeper, http01, accounts};

  void SetUp() override {
    ca.routes["/dir"] = [](const std::string&) { return reply(200, kDirectory); };
    ca.routes["/acct"] = [this](const std::string&) {
      ++accountsMade;
      return reply(201, R"({"status":"valid"})", "https://ca/acct/" + std::to_string(accountsMade));
    };
  }
  sources::Request request() {
    sources::Request r;
    r.names = {"a.test"};
    r.journal = &journal;
    return r;
  }
  bool replacesSent(std::size_t nth) const {  // in the nth newOrder payload
    std::size_t seen = 0;
    for (const auto& p : ca.payloads)
      if (p.find("\"identifiers\"") != std::string::npos && seen++ == nth) return p.find("\"replaces\"") != std::string::npos;
    return false;
  }
};

}  // namespace

TEST_F(AcmeSourceTest, AFailedValidationWithdrawsEveryTokenItPublished) {
  ca.routes["/order"] = [](const std::string&) { return reply(201, pendingOrder(), "https://ca/order/1"); };
  int polls = 0;
  ca.routes["/authz/1"] = [&](const std::string&) { return reply(200, authz(polls++ == 0 ? "pending" : "invalid")); };
  ca.routes["/chall/1"] = [](const std::string&) { return reply(200, R"({"status":"processing"})"); };
  auto got = source.obtain(request(), wallClockNow());
  ASSERT_FALSE(got);
  EXPECT_TRUE(got.error().is(ErrorKind::Rejected)) << got.error().message;
  EXPECT_NE(got.error().message.find("404 at the challenge path"), std::string::npos) << got.error().message;
  EXPECT_EQ(publisher.published, 1);
  EXPECT_TRUE(publisher.live.empty());  // nothing is served for an order that ended
  EXPECT_EQ(journal.orders, 1);
  EXPECT_EQ(journal.ended, 1);  // a dead order is not resumed
}

TEST_F(AcmeSourceTest, TheCaIsAskedToValidateOnlyOnceTheSelfCheckPassesAndTheOrderIsKeptUntilThen) {
  ScriptedCheck check(publisher);
  sources::Http01Solver checkedHttp{publisher, &check};
  sources::AcmeSource checked{{"https://ca/dir", {"ops@a.test", "", ""}, "", "", KeyType::Ec256},
                              ca, sleeper, checkedHttp, accounts};
  ca.routes["/order"] = [](const std::string&) { return reply(201, pendingOrder(), "https://ca/order/1"); };
  bool told = false;  // once told, the CA ends the authorization at its next poll
  ca.routes["/authz/1"] = [&](const std::string&) { return reply(200, authz(told ? "invalid" : "pending")); };
  ca.routes["/chall/1"] = [&](const std::string&) {
    told = true;
    return reply(200, R"({"status":"processing"})");
  };
  auto got = checked.obtain(request(), wallClockNow());
  ASSERT_FALSE(got);
  EXPECT_TRUE(got.error().is(ErrorKind::General)) << got.error().message;  // not the CA's verdict
  EXPECT_NE(got.error().message.find("HTTP 502"), std::string::npos) << got.error().message;
  ASSERT_EQ(check.asked.size(), 1u);
  EXPECT_EQ(check.asked[0].identifier, "a.test");
  EXPECT_EQ(check.asked[0].token, "DGyRejmCefe7v4NfDGDKfA-token-0123");
  EXPECT_EQ(check.asked[0].keyAuthorization.rfind("DGyRejmCefe7v4NfDGDKfA-token-0123.", 0), 0u);
  EXPECT_TRUE(check.servedWhenAsked);                  // published before it was checked
  EXPECT_EQ(ca.count("POST /chall/1"), 0);             // the CA was never told to fetch
  EXPECT_TRUE(publisher.live.empty());                 // and nothing is served after the attempt
  EXPECT_EQ(journal.placed, 1);
  EXPECT_EQ(journal.ended, 0);                         // the order is resumed by the next attempt
  check.passes = true;
  (void)checked.obtain(request(), wallClockNow());  // what counts here is what the CA was asked
  EXPECT_EQ(ca.count("POST /chall/1"), 1);             // once it passes, the CA is asked
}

TEST_F(AcmeSourceTest, AnAccountTheCaLostIsMadeAgainWithTheSameKeyAndTheOrderPlacedOnce) {
  ASSERT_TRUE(accounts.saveAccountUrl("https://ca/dir", "https://ca/acct/gone"));
  int orders = 0;
  ca.routes["/order"] = [&](const std::string&) {
    return ++orders == 1 ? problem(400, "accountDoesNotExist", "no account for this key")
                         : problem(503, "serverInternal", "down for maintenance");
  };
  auto got = source.obtain(request(), wallClockNow());
  ASSERT_FALSE(got);
  EXPECT_EQ(accountsMade, 1);                                // a new account...
  EXPECT_EQ(accounts.accountUrl("https://ca/dir"), "https://ca/acct/1");  // ...remembered
  EXPECT_EQ(ca.count("POST /order"), 2);  // one order refused for the account, one after it
  EXPECT_EQ(journal.orders, 2);           // and each counted before it was sent
  auto key = accounts.key("https://ca/dir");
  ASSERT_TRUE(key);
  // A second attempt uses the new account as it is: no account request.
  (void)source.obtain(request(), wallClockNow());  // the requests it makes are the point, not its outcome
  EXPECT_EQ(accountsMade, 1);
  EXPECT_EQ(accounts.key("https://ca/dir"), key);
}

// Issue 30, defect 0: `replaces` is optional, so an order refused while it names
// one is placed again at once without it, whatever the refusal said, and the
// budget counts the one order it admitted. Pebble answers serverInternal for a
// serial it cannot find (one with a leading zero byte).
TEST_F(AcmeSourceTest, ARenewalRefusedWhileNamingReplacesIsOrderedAgainAtOnceWithoutIt) {
  auto renewal = request();
  renewal.current = store::CertFiles{"", kLeafWithAki, "", ""};
  for (auto refusal : {problem(409, "alreadyReplaced", "the certificate was already replaced"),
                       problem(500, "serverInternal", "could not find an order for the given certificate"),
                       problem(403, "unauthorized", "another account's certificate")}) {
    ca.payloads.clear();
    ca.sent.clear();
    journal.orders = 0;
    int orders = 0;
    ca.routes["/order"] = [&](const std::string&) {
      return ++orders == 1 ? refusal : reply(201, pendingOrder(), "https://ca/order/1");
    };
    ca.routes["/authz/1"] = [](const std::string&) { return reply(200, authz("invalid")); };
    EXPECT_FALSE(source.obtain(renewal, wallClockNow()));  // the validation fails; the orders placed are the point
    EXPECT_EQ(ca.count("POST /order"), 2) << refusal.body;
    EXPECT_TRUE(replacesSent(0));
    EXPECT_FALSE(replacesSent(1));
    EXPECT_EQ(journal.orders, 1);  // no order existed after the refusal: one admitted, one placed
  }
  // A rate limit would refuse the second order too.
  ca.payloads.clear();
  ca.sent.clear();
  ca.routes["/order"] = [](const std::string&) { return problem(429, "rateLimited", "too many"); };
  auto got = source.obtain(renewal, wallClockNow());
  ASSERT_FALSE(got);
  EXPECT_EQ(ca.count("POST /order"), 1) << got.error().message;
  EXPECT_TRUE(replacesSent(0));
}

TEST_F(AcmeSourceTest, ANewOrderWithoutACurrentSetNamesNothingToReplace) {
  ca.routes["/order"] = [](const std::string&) { return problem(429, "rateLimited", "too many"); };
  auto got = source.obtain(request(), wallClockNow());
  ASSERT_FALSE(got);
  EXPECT_TRUE(got.error().isProblem(ProblemType::RateLimited));
  EXPECT_EQ(ca.count("POST /order"), 1);
  EXPECT_FALSE(replacesSent(0));
}

TEST_F(AcmeSourceTest, ACaThatRefusesAddressesNamesTheProfileSettingAndWhatItOffers) {
  ca.routes["/dir"] = [](const std::string&) {
    return reply(200, R"({"newNonce":"https://ca/nonce","newAccount":"https://ca/acct","newOrder":"https://ca/order",
      "meta":{"profiles":{"classic":"","shortlived":""}}})");
  };
  ca.routes["/order"] = [](const std::string&) {
    return problem(400, "rejectedIdentifier", "IP address identifiers are only allowed with the shortlived profile");
  };
  auto r = request();
  r.names = {"a.test", "192.0.2.7"};
  auto got = source.obtain(r, wallClockNow());
  ASSERT_FALSE(got);
  EXPECT_TRUE(got.error().isProblem(ProblemType::RejectedIdentifier));  // still the CA's refusal, backed off as one
  const auto& m = got.error().message;
  EXPECT_NE(m.find("refuses IP addresses under its default profile"), std::string::npos) << m;
  EXPECT_NE(m.find("SIDECERT_ACME_PROFILE"), std::string::npos) << m;
  EXPECT_NE(m.find("this CA offers: classic, shortlived"), std::string::npos) << m;
  // The same refusal for DNS names alone says nothing of profiles.
  r.names = {"a.test"};
  auto dns = source.obtain(r, wallClockNow());
  ASSERT_FALSE(dns);
  EXPECT_EQ(dns.error().message.find("SIDECERT_ACME_PROFILE"), std::string::npos) << dns.error().message;
}

namespace {

// A solver whose challenges are placed but not yet served everywhere the first
// `notReadyFor` times (dns-01 records on their way to the zone's servers).
class PropagatingSolver : public acme::Solver {
 public:
  const char* type() const override { return "http-01"; }
  Status present(const std::vector<acme::ChallengeTask>&) override {
    if (++presented > notReadyFor) return {};
    Error e;
    e.kind = ErrorKind::NotReady;
    e.message = "ns2.a.test does not serve the record yet";
    e.retryAfter = std::chrono::seconds(2);
    return std::unexpected(e);
  }
  void cleanUp() override { ++cleaned; }
  int notReadyFor = 2, presented = 0, cleaned = 0;
};

}  // namespace

// Issue 30, defect 3: a challenge not ready yet ends the attempt (no worker waits
// for it), keeps what was placed and the order, and the next attempt presents
// the same challenges again without asking the CA for them.
TEST_F(AcmeSourceTest, ChallengesNotServedYetEndTheAttemptAndArePresentedAgainWithoutAskingTheCa) {
  PropagatingSolver dns;
  sources::AcmeSource dnsSource{{"https://ca/dir", {"ops@a.test", "", ""}, "", "", KeyType::Ec256},
                                ca, sleeper, dns, accounts};
  ca.routes["/order"] = [](const std::string&) { return reply(201, pendingOrder(), "https://ca/order/1"); };
  ca.routes["/order/1"] = [](const std::string&) { return reply(200, pendingOrder()); };
  bool told = false;
  ca.routes["/authz/1"] = [&](const std::string&) { return reply(200, authz(told ? "valid" : "pending")); };
  ca.routes["/chall/1"] = [&](const std::string&) {
    told = true;
    return reply(200, R"({"status":"processing"})");
  };
  auto r = request();
  auto first = dnsSource.obtain(r, wallClockNow());
  ASSERT_FALSE(first);
  EXPECT_TRUE(first.error().is(ErrorKind::NotReady)) << first.error().message;
  EXPECT_EQ(first.error().retryAfter, std::chrono::seconds(2));
  EXPECT_EQ(dns.cleaned, 0);     // what was placed stays for the next look
  EXPECT_EQ(journal.ended, 0);   // and the order is resumed by it
  EXPECT_EQ(ca.count("POST /chall/1"), 0);
  ASSERT_TRUE(journal.last);
  r.resume = journal.last;
  int asked = static_cast<int>(ca.sent.size());
  auto second = dnsSource.obtain(r, wallClockNow());
  ASSERT_FALSE(second);
  EXPECT_TRUE(second.error().is(ErrorKind::NotReady));
  EXPECT_EQ(static_cast<int>(ca.sent.size()), asked);  // the CA was not asked for order or authorizations
  EXPECT_EQ(dns.presented, 2);
  EXPECT_EQ(journal.orders, 1);  // resumed, never ordered again
  (void)dnsSource.obtain(r, wallClockNow());  // served now: the CA is told (what it answers is not the point)
  EXPECT_EQ(dns.presented, 3);
  EXPECT_EQ(ca.count("POST /chall/1"), 1);
  EXPECT_EQ(dns.cleaned, 1);
  EXPECT_EQ(journal.orders, 1);
}

// Issue 30, defect 0: renewal information is asked once, within the time given,
// and the limit is lifted afterwards.
TEST_F(AcmeSourceTest, RenewalInformationIsAskedOnceWithinItsTimeLimit) {
  auto certId = crypto::Certificate::parseAll(kLeafWithAki)->front().ariCertId();
  ca.routes["/ari/" + certId] = [](const std::string&) { return problem(500, "serverInternal", "try later"); };
  auto before = std::chrono::steady_clock::now();
  auto hint = source.renewalHint(store::CertFiles{"", kLeafWithAki, "", ""}, wallClockNow(), std::chrono::seconds(3));
  EXPECT_FALSE(hint);
  EXPECT_EQ(ca.count("GET /ari/" + certId), 1);  // no retries for advice
  ASSERT_EQ(ca.deadlines.size(), 2u);
  ASSERT_TRUE(ca.deadlines[0]);
  EXPECT_LE(*ca.deadlines[0], std::chrono::steady_clock::now() + std::chrono::seconds(3));
  EXPECT_GE(*ca.deadlines[0], before + std::chrono::seconds(3));
  EXPECT_FALSE(ca.deadlines[1]);  // lifted
}
