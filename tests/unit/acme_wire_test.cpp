// CA replies are hostile input: each malformed shape is a Protocol error that
// quotes the reply, never an exception, a crash or unbounded work.
#include "acme/wire.h"

#include <gtest/gtest.h>

using namespace sc;

namespace {

const std::string kOrderUrl = "https://ca/order/1";

std::string order(const std::string& authorizations, const std::string& extra = "") {
  return R"({"status":"pending","finalize":"https://ca/fin/1","authorizations":)" + authorizations + extra + "}";
}

std::string authz(const std::string& challenges) {
  return R"({"status":"pending","identifier":{"type":"dns","value":"a.test"},"challenges":)" + challenges + "}";
}

std::string challenge(const std::string& token) {
  return R"([{"type":"http-01","url":"https://ca/ch/1","status":"pending","token":")" + token + R"("}])";
}

void expectProtocolError(const Error& e, const std::string& says) {
  EXPECT_EQ(e.kind, ErrorKind::Protocol) << e.message;
  EXPECT_NE(e.message.find(says), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("reply begins: "), std::string::npos) << e.message;
}

}  // namespace

TEST(AcmeWire, AWellFormedOrderIsRead) {
  auto o = acme::wire::order(order(R"(["https://ca/authz/1","https://ca/authz/2"])"), kOrderUrl, 2);
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->status, acme::OrderStatus::Pending);
  EXPECT_EQ(o->authorizations.size(), 2u);
  EXPECT_EQ(o->profile, "");
}

TEST(AcmeWire, TheProfileAndReplacesTheCaEchoesAreRead) {
  auto o = acme::wire::order(order(R"(["https://ca/authz/1"])", R"(,"profile":"shortlived","replaces":"aYhba4dGQ.YWJj")"),
                             kOrderUrl, 1);
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->profile, "shortlived");
  EXPECT_EQ(o->replaces, "aYhba4dGQ.YWJj");
}

TEST(AcmeWire, OrderShapesThatAreRefused) {
  struct Case {
    std::string body, says;
  } cases[] = {
      {order("[null]"), "authorizations[0] is not a string"},
      {order("[1]"), "authorizations[0] is not a string"},
      {order(R"({"a":1})"), "'authorizations' is not an array"},
      {order(R"(["http://ca/authz/1"])"), "is not an https URL"},
      {order(R"(["https://ca/a","https://ca/b"])"), "lists 2 authorizations for 1 names"},
      {R"({"status":"pending","finalize":"https://ca/fin/1"})", "'authorizations' is not an array"},
      {R"({"status":"bogus","finalize":"https://ca/fin/1","authorizations":[]})", "status 'bogus'"},
      {R"({"status":7,"finalize":"https://ca/fin/1","authorizations":[]})", "'status' is not a string"},
      {R"({"status":"valid","finalize":"https://ca/fin/1","authorizations":[]})", "without a certificate URL"},
      {R"({"status":"pending","authorizations":[]})", "'finalize' is missing"},
      {order("[]", R"(,"error":"boom")"), "'error' is not a problem object"},
      {order("[]", R"(,"profile":7)"), "'profile' is not a string"},
      {order("[]", ",\"profile\":\"" + std::string(65, 'p') + "\""), "'profile' is longer than 64"},
      {order("[]", R"(,"replaces":["x"])"), "'replaces' is not a string"},
      {"[]", "not a JSON object"},
      {"{", "not JSON"},
      {"", "not JSON"},
      {std::string(300 * 1024, ' '), "larger than"},
      {std::string(100000, '['), "not JSON"},
  };
  for (const auto& c : cases) {
    auto o = acme::wire::order(c.body, kOrderUrl, 1);
    ASSERT_FALSE(o) << c.body.substr(0, 80);
    expectProtocolError(o.error(), c.says);
  }
}

TEST(AcmeWire, ThousandsOfAuthorizationsAreRefusedBeforeAnyIsFetched) {
  std::string list = "[";
  for (int i = 0; i < 5000; ++i) list += (i ? "," : "") + std::string("\"https://ca/a/") + std::to_string(i) + "\"";
  auto o = acme::wire::order(order(list + "]"), kOrderUrl, 2);
  ASSERT_FALSE(o);
  expectProtocolError(o.error(), "lists 5000 authorizations for 2 names");
}

TEST(AcmeWire, ChallengeTokensMustBeBase64UrlOfASaneLength) {
  EXPECT_TRUE(acme::wire::authorization(authz(challenge("DGyRejmCefe7v4NfDGDKfA-token_0123")), "https://ca/a/1"));
  for (const std::string& token : {std::string("../../etc/passwd-aaaaaaaaaaaaaaaaaa"), std::string("short"),
                                  std::string(300, 'a'), std::string("aaaaaaaaaaaaaaaaaaaaaaaa%2f"),
                                  std::string("aaaaaaaaaaaaaaaaaaaaaaaa=")}) {
    auto a = acme::wire::authorization(authz(challenge(token)), "https://ca/a/1");
    ASSERT_FALSE(a) << token;
    EXPECT_EQ(a.error().kind, ErrorKind::Protocol);
  }
}

TEST(AcmeWire, AuthorizationShapesThatAreRefused) {
  struct Case {
    std::string body, says;
  } cases[] = {
      {authz("null"), "'challenges' is not an array"},
      {authz("[null]"), "challenges[0] is not an object"},
      {authz(R"([{"type":"http-01","url":"https://ca/ch/1","status":"pending"}])"), "'token' is missing"},
      {R"({"status":"pending","challenges":[]})", "'identifier' is not an object"},
      {R"({"status":"processing","identifier":{"value":"a.test"},"challenges":[]})", "status 'processing'"},
  };
  for (const auto& c : cases) {
    auto a = acme::wire::authorization(c.body, "https://ca/a/1");
    ASSERT_FALSE(a) << c.body;
    expectProtocolError(a.error(), c.says);
  }
  std::string many = "[";
  for (int i = 0; i < 17; ++i) many += (i ? "," : "") + std::string(R"({"type":"dns-01"})");
  auto a = acme::wire::authorization(authz(many + "]"), "https://ca/a/1");
  ASSERT_FALSE(a);
  expectProtocolError(a.error(), "more than 16 challenges");
}

TEST(AcmeWire, AlternateLinksAreBoundedAndHttpsOnly) {
  std::vector<std::string> headers;
  for (int i = 0; i < 50; ++i) headers.push_back("<https://ca/cert/1/" + std::to_string(i) + ">;rel=\"alternate\"");
  headers.insert(headers.begin(), "<file:///etc/shadow>;rel=\"alternate\", <https://ca/up>;rel=\"up\"");
  auto links = acme::wire::alternateLinks(headers);
  ASSERT_EQ(links.size(), acme::wire::kMaxAlternates);
  EXPECT_EQ(links.front(), "https://ca/cert/1/0");
}

TEST(AcmeWire, AProblemThatIsNotOneIsNone) {
  EXPECT_FALSE(acme::wire::problem("<html>502</html>"));
  EXPECT_FALSE(acme::wire::problem(R"({"type":5})"));
  auto p = acme::wire::problem(R"({"type":"urn:ietf:params:acme:error:rateLimited","detail":"slow down","status":429})");
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->is(ProblemType::RateLimited));
  EXPECT_EQ(p->status, 429);
}

TEST(AcmeWire, ProblemTypesAreParsedOnceAndAnUnknownOneKeepsItsText) {
  EXPECT_EQ(acme::wire::problemType("urn:ietf:params:acme:error:alreadyReplaced"), ProblemType::AlreadyReplaced);
  EXPECT_EQ(acme::wire::problemType("urn:ietf:params:acme:error:badCSR"), ProblemType::BadCsr);
  EXPECT_EQ(acme::wire::problemType("urn:ietf:params:acme:error:accountDoesNotExist"), ProblemType::AccountDoesNotExist);
  // the short name alone, or under another prefix, is no ACME problem type
  EXPECT_EQ(acme::wire::problemType("badNonce"), ProblemType::Other);
  EXPECT_EQ(acme::wire::problemType("urn:example:badNonce"), ProblemType::Other);
  auto p = acme::wire::problem(R"({"type":"urn:ietf:params:acme:error:somethingNew","detail":"ask later"})");
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->is(ProblemType::Other));
  EXPECT_EQ(p->describe(), "somethingNew: ask later");
  auto sub = acme::wire::problem(R"({"type":"urn:ietf:params:acme:error:compound","subproblems":[
    {"type":"urn:ietf:params:acme:error:caa","identifier":{"type":"dns","value":"a.test"}}]})");
  ASSERT_TRUE(sub);
  EXPECT_TRUE(sub->is(ProblemType::Compound));
  ASSERT_EQ(sub->subproblems.size(), 1u);
  EXPECT_TRUE(sub->subproblems[0].is(ProblemType::Caa));
}

TEST(AcmeWire, StatusesAreTypedPerObjectAndNamedAsOnTheWire) {
  auto o = acme::wire::order(R"({"status":"processing","finalize":"https://ca/fin/1","authorizations":[]})", kOrderUrl, 1);
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->status, acme::OrderStatus::Processing);
  EXPECT_STREQ(acme::statusName(o->status), "processing");
  // "deactivated" is an authorization's state, never an order's
  auto bad = acme::wire::order(R"({"status":"deactivated","finalize":"https://ca/fin/1","authorizations":[]})", kOrderUrl, 1);
  ASSERT_FALSE(bad);
  expectProtocolError(bad.error(), "status 'deactivated' is not one RFC 8555 defines here");
  auto a = acme::wire::authorization(R"({"status":"deactivated","identifier":{"type":"dns","value":"a.test"},"challenges":)" +
                                         challenge(std::string(43, 'A')) + "}",
                                     "https://ca/authz/1");
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->status, acme::AuthorizationStatus::Deactivated);
  EXPECT_STREQ(acme::statusName(a->status), "deactivated");
  ASSERT_EQ(a->challenges.size(), 1u);
  EXPECT_EQ(a->challenges[0].status, acme::ChallengeStatus::Pending);
}

TEST(AcmeWire, ExcerptsArePrintableAndShort) {
  std::string e = acme::wire::excerpt(std::string("\x01\x02{\n") + std::string(500, 'x'));
  EXPECT_EQ(e.substr(0, 4), "..{.");
  EXPECT_LE(e.size(), 124u);
}

TEST(AcmeWire, DnsPersistIssuerNamesAndCaaIdentitiesAreDnsNamesOnly) {
  auto dir = acme::wire::directory(
      R"({"newNonce":"https://ca/nonce","newAccount":"https://ca/acct","newOrder":"https://ca/order",)"
      R"("meta":{"caaIdentities":["Pebble.LetsEncrypt.org","x\" IN TXT \"forged","a;b",7,"ca.test"]}})");
  ASSERT_TRUE(dir) << dir.error().message;
  // what would break the zone line dns-record prints is passed over
  EXPECT_EQ(dir->caaIdentities, (std::vector<std::string>{"pebble.letsencrypt.org", "ca.test"}));
  auto persist = [](const std::string& issuers) {
    return acme::wire::authorization(
        authz(R"([{"type":"dns-persist-01","url":"https://ca/ch/1","status":"pending",)"
              R"("accounturi":"https://ca/acct/1","issuer-domain-names":)" + issuers + "}]"),
        "https://ca/authz/1");
  };
  auto good = persist(R"(["CA.test"])");
  ASSERT_TRUE(good) << good.error().message;
  EXPECT_EQ(good->challenges.front().issuerDomainNames, (std::vector<std::string>{"ca.test"}));
  EXPECT_EQ(good->challenges.front().accountUri, "https://ca/acct/1");
  for (const char* bad : {R"(["ca.test","x y"])", R"(["a;b"])", R"([""])", R"([7])", "[]"})
    expectProtocolError(persist(bad).error(), "issuer-domain-names");
}

