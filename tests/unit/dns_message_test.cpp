// DNS answers as hostile input, read with ldns: replies are made here with ldns
// too, as a server would write them, then bent the ways a spoofer or a broken
// server would.
#include "dns/message.h"

#include <gtest/gtest.h>
#include <ldns/ldns.h>

#include <cstdlib>

using namespace sc::dns;

namespace {

// A reply to `q` with `id`, holding the answer records given as zone lines.
Bytes reply(const Question& q, std::uint16_t id, const std::vector<std::string>& answers, int rcode = 0,
            const std::vector<std::string>& authority = {}) {
  ldns_pkt* p = ldns_pkt_new();
  ldns_pkt_set_id(p, id);
  ldns_pkt_set_qr(p, true);
  ldns_pkt_set_rcode(p, static_cast<std::uint8_t>(rcode));
  ldns_rr* question = nullptr;
  EXPECT_EQ(ldns_rr_new_question_frm_str(&question, (q.name + ". IN " + (q.type == RecordType::Txt ? "TXT" : q.type == RecordType::Soa ? "SOA" : "NS")).c_str(), nullptr, nullptr), LDNS_STATUS_OK);
  ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION, question);
  auto push = [&](const std::vector<std::string>& lines, ldns_pkt_section section) {
    for (const auto& line : lines) {
      ldns_rr* rr = nullptr;
      EXPECT_EQ(ldns_rr_new_frm_str(&rr, line.c_str(), 60, nullptr, nullptr), LDNS_STATUS_OK) << line;
      ldns_pkt_push_rr(p, section, rr);
    }
  };
  push(answers, LDNS_SECTION_ANSWER);
  push(authority, LDNS_SECTION_AUTHORITY);
  std::uint8_t* wire = nullptr;
  std::size_t size = 0;
  EXPECT_EQ(ldns_pkt2wire(&wire, p, &size), LDNS_STATUS_OK);
  Bytes out(wire, wire + size);
  std::free(wire);
  ldns_pkt_free(p);
  return out;
}

const Question kTxt{"_validation-persist.example.test", RecordType::Txt, true};

}  // namespace

TEST(DnsMessage, AQueryIsWhatLdnsReadsBackWithItsIdAndQuestion) {
  auto q = buildQuery(kTxt);
  ASSERT_TRUE(q) << q.error().message;
  auto answer = parseAnswer(q->wire.data(), q->wire.size(), q->id, kTxt);
  EXPECT_FALSE(answer);  // a query is no answer: its QR bit is clear
  auto r = reply(kTxt, q->id, {"_validation-persist.example.test. 60 IN TXT \"ca.test; accounturi=\" \"https://ca/acct/1\""});
  auto a = parseAnswer(r.data(), r.size(), q->id, kTxt);
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->values, std::vector<std::string>{"ca.test; accounturi=https://ca/acct/1"});  // strings joined
}

TEST(DnsMessage, AnAnswerToAnotherMessageOrQuestionIsRefused) {
  auto good = reply(kTxt, 7, {"_validation-persist.example.test. 60 IN TXT \"x\""});
  EXPECT_FALSE(parseAnswer(good.data(), good.size(), 8, kTxt));  // another id
  Question other{"_validation-persist.evil.test", RecordType::Txt, true};
  EXPECT_FALSE(parseAnswer(good.data(), good.size(), 7, other));
  for (std::size_t cut : {std::size_t(0), std::size_t(5), good.size() / 2, good.size() - 1})
    EXPECT_FALSE(parseAnswer(good.data(), cut, 7, kTxt)) << cut;  // truncated in transit
}

TEST(DnsMessage, OnlyRecordsAtTheNameOrItsCnameChainCount) {
  auto r = reply(kTxt, 1,
                 {"_validation-persist.example.test. 60 IN CNAME persist.delegated.test.",
                  "persist.delegated.test. 60 IN TXT \"via cname\"", "elsewhere.test. 60 IN TXT \"injected\""});
  auto a = parseAnswer(r.data(), r.size(), 1, kTxt);
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->values, std::vector<std::string>{"via cname"});
}

TEST(DnsMessage, TooManyRecordsAreRefusedAndNxdomainIsNoValue) {
  std::vector<std::string> many;
  for (std::size_t i = 0; i <= kMaxValues; ++i)
    many.push_back("_validation-persist.example.test. 60 IN TXT \"v" + std::to_string(i) + "\"");
  auto r = reply(kTxt, 3, many);
  auto a = parseAnswer(r.data(), r.size(), 3, kTxt);
  ASSERT_FALSE(a);
  EXPECT_TRUE(a.error().is(sc::ErrorKind::Protocol));
  auto nx = reply(kTxt, 4, {}, 3);
  auto n = parseAnswer(nx.data(), nx.size(), 4, kTxt);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->rcode, 3);
  EXPECT_TRUE(n->values.empty());
}

TEST(DnsMessage, TheZoneOfANameIsTheSoaOwnerFromTheAuthoritySection) {
  Question soa{"_acme-challenge.www.example.test", RecordType::Soa, true};
  auto r = reply(soa, 5, {}, 0, {"example.test. 60 IN SOA ns.example.test. admin.example.test. 1 60 60 600 1"});
  auto a = parseAnswer(r.data(), r.size(), 5, soa);
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->values, std::vector<std::string>{"example.test"});
}

TEST(DnsMessage, AnUpdateIsSignedAndAReplyWithoutTheKeysSignatureIsRefused) {
  TsigKey key{"sidecert-key", "hmac-sha256", "c2VjcmV0IG9mIDMyIGJ5dGVzIGZvciBobWFjLXNoYTI1Ng=="};
  auto u = buildUpdate("example.test", {{"_acme-challenge.example.test", "abc", true}}, 60, key);
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_FALSE(u->requestMac.empty());
  ldns_pkt* sent = nullptr;
  ASSERT_EQ(ldns_wire2pkt(&sent, u->wire.data(), u->wire.size()), LDNS_STATUS_OK);
  EXPECT_NE(ldns_pkt_tsig(sent), nullptr);
  EXPECT_EQ(ldns_pkt_get_opcode(sent), LDNS_PACKET_UPDATE);
  ldns_pkt_free(sent);
  // an unsigned NOERROR (a spoofer's, or a server without the key) is not taken as done
  Question zone{"example.test", RecordType::Soa, false};
  auto unsigned_ = reply(zone, u->id, {});
  auto verdict = parseUpdateReply(unsigned_.data(), unsigned_.size(), *u, key);
  ASSERT_FALSE(verdict);
  EXPECT_NE(verdict.error().message.find("not signed with the TSIG key sidecert-key"), std::string::npos);
  auto refused = reply(zone, u->id, {}, 9);
  auto notAuth = parseUpdateReply(refused.data(), refused.size(), *u, key);
  ASSERT_FALSE(notAuth);
  EXPECT_NE(notAuth.error().message.find("NOTAUTH"), std::string::npos);
  EXPECT_EQ(notAuth.error().message.find(key.secret), std::string::npos);
}

// Each accepted algorithm signs, under the name BIND knows it by on the wire, and
// a reply signed over the request's MAC with the same key verifies (BIND's side
// of this is dns01.bats). What ldns cannot sign with is refused by name.
TEST(DnsMessage, EachAcceptedTsigAlgorithmSignsAndVerifiesAReplyAndOthersAreRefused) {
  const std::string secret = "c2VjcmV0IG9mIDMyIGJ5dGVzIGZvciBobWFjLXNoYTI1Ng==";
  for (const char* algorithm : kTsigAlgorithms) {
    TsigKey key{"sidecert-key", algorithm, secret};
    auto u = buildUpdate("example.test", {{"_acme-challenge.example.test", "abc", true}}, 60, key);
    ASSERT_TRUE(u) << algorithm << ": " << u.error().message;
    ldns_pkt* sent = nullptr;
    ASSERT_EQ(ldns_wire2pkt(&sent, u->wire.data(), u->wire.size()), LDNS_STATUS_OK);
    ASSERT_NE(ldns_pkt_tsig(sent), nullptr);
    char* onWire = ldns_rdf2str(ldns_rr_rdf(ldns_pkt_tsig(sent), 0));
    EXPECT_EQ(std::string(onWire), std::string(algorithm) == "hmac-md5" ? "hmac-md5.sig-alg.reg.int." : std::string(algorithm) + ".");
    std::free(onWire);
    ldns_pkt_free(sent);
    // the server's reply, signed as BIND signs it: over the request's MAC
    ldns_pkt* r = ldns_pkt_new();
    ldns_pkt_set_id(r, u->id);
    ldns_pkt_set_qr(r, true);
    ldns_pkt_set_opcode(r, LDNS_PACKET_UPDATE);
    ldns_rdf* mac = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_INT16_DATA, u->requestMac.size(), u->requestMac.data());
    std::string wireName = std::string(algorithm) == "hmac-md5" ? "hmac-md5.sig-alg.reg.int." : std::string(algorithm) + ".";
    ASSERT_EQ(ldns_pkt_tsig_sign(r, "sidecert-key.", secret.c_str(), 300, wireName.c_str(), mac), LDNS_STATUS_OK);
    std::uint8_t* wire = nullptr;
    std::size_t size = 0;
    ASSERT_EQ(ldns_pkt2wire(&wire, r, &size), LDNS_STATUS_OK);
    EXPECT_TRUE(parseUpdateReply(wire, size, *u, key)) << algorithm;
    TsigKey other{"sidecert-key", algorithm, "b3RoZXIgc2VjcmV0"};
    EXPECT_FALSE(parseUpdateReply(wire, size, *u, other)) << algorithm;  // another secret's reply
    std::free(wire);
    ldns_rdf_deep_free(mac);
    ldns_pkt_free(r);
  }
  for (const char* unsignable : {"hmac-sha384", "hmac-sha224"}) {
    EXPECT_FALSE(isTsigAlgorithm(unsignable));
    auto u = buildUpdate("example.test", {{"_acme-challenge.example.test", "abc", true}}, 60,
                         TsigKey{"sidecert-key", unsignable, secret});
    ASSERT_FALSE(u);
    EXPECT_NE(u.error().message.find(std::string("ldns cannot sign with ") + unsignable), std::string::npos);
  }
}
