// The challenge a lineage uses, the names each can prove, and the DNS settings.
#include <gtest/gtest.h>

#include <fstream>

#include "config/load.h"
#include "dns/message.h"
#include "test_support.h"

using sc::ChallengeType;
using sc::Environment;

namespace {

sc::Result<sc::Settings> fromEnv(Environment env) { return sc::loadSettings(std::nullopt, env, "host-1"); }
std::string errorOf(const sc::Result<sc::Settings>& r) { return r ? "" : r.error().message; }

}  // namespace

TEST(ChallengeConfig, Http01IsTheDefaultAndAWildcardNeedsADnsChallenge) {
  auto plain = fromEnv({{"SIDECERT_DOMAINS", "example.test"}});
  ASSERT_TRUE(plain) << errorOf(plain);
  EXPECT_EQ(plain->certificates.front().challenge, ChallengeType::Http01);
  auto refused = fromEnv({{"SIDECERT_DOMAINS", "*.example.test,example.test"}});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message,
            "SIDECERT_DOMAINS: '*.example.test' is a wildcard, which http-01 cannot prove: set SIDECERT_CHALLENGE "
            "to dns-persist-01 or dns-01");
  auto wild = fromEnv({{"SIDECERT_DOMAINS", "*.Example.TEST,example.test"}, {"SIDECERT_CHALLENGE", "dns-persist-01"}});
  ASSERT_TRUE(wild) << errorOf(wild);
  EXPECT_EQ(wild->certificates.front().domains, (std::vector<std::string>{"*.example.test", "example.test"}));
  EXPECT_EQ(wild->certificates.front().challenge, ChallengeType::DnsPersist01);
  EXPECT_EQ(wild->name, "example.test");  // a wildcard first names the folder by its base domain
}

TEST(ChallengeConfig, MalformedWildcardsAndIpAddressesUnderADnsChallengeAreRefused) {
  for (const char* bad : {"*.*.example.test", "a.*.example.test", "*example.test", "*.", "*.1.2.3.4", "*.a..test"}) {
    auto r = fromEnv({{"SIDECERT_DOMAINS", bad}, {"SIDECERT_CHALLENGE", "dns-persist-01"}});
    EXPECT_FALSE(r) << bad;
  }
  auto ip = fromEnv({{"SIDECERT_DOMAINS", "example.test,192.0.2.1"}, {"SIDECERT_CHALLENGE", "dns-persist-01"}});
  ASSERT_FALSE(ip);
  EXPECT_NE(ip.error().message.find("'192.0.2.1' is an IP address, which dns-persist-01 cannot prove"), std::string::npos)
      << ip.error().message;
  auto unknown = fromEnv({{"SIDECERT_CHALLENGE", "tls-alpn-01"}});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().message,
            "SIDECERT_CHALLENGE: 'tls-alpn-01' is not a challenge (expected http-01, dns-persist-01 or dns-01)");
}

TEST(ChallengeConfig, EachCertificateHasItsOwnChallengeAndErrorsNameItsLine) {
  TempDir dir;
  std::string file = dir.path() + "/sidecert.yml";
  std::ofstream(file) << "certificates:\n"
                         "  - name: site\n"
                         "    domains: www.example.test\n"
                         "  - name: wild\n"
                         "    domains: '*.example.test'\n"
                         "    challenge: dns-persist-01\n";
  auto s = sc::loadSettings(file, {}, "host-1");
  ASSERT_TRUE(s) << errorOf(s);
  ASSERT_EQ(s->certificates.size(), 2u);
  EXPECT_EQ(s->certificates[0].challenge, ChallengeType::Http01);
  EXPECT_EQ(s->certificates[1].challenge, ChallengeType::DnsPersist01);
  std::ofstream(file) << "certificates:\n"
                         "  - name: wild\n"
                         "    domains: '*.example.test'\n";
  auto bad = sc::loadSettings(file, {}, "host-1");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message.rfind(file + ":2: '*.example.test' is a wildcard", 0), 0u) << bad.error().message;
  EXPECT_NE(bad.error().message.find("set challenge (or SIDECERT_CHALLENGE)"), std::string::npos);
}

TEST(ChallengeConfig, DnsSettingsAreCheckedAndTheTsigSecretIsNeverRepeated) {
  TempDir dir;
  auto ok = fromEnv({{"SIDECERT_DNS_RESOLVER", "192.0.2.53, [2001:db8::53]:5353"},
                     {"SIDECERT_DNS_PERSIST_ISSUER", "LetsEncrypt.org."},
                     {"SIDECERT_DNS_PERSIST_UNTIL", "2027-06-30T00:00:00Z"}});
  ASSERT_TRUE(ok) << errorOf(ok);
  EXPECT_EQ(ok->dns.resolvers, (std::vector<std::string>{"192.0.2.53", "[2001:db8::53]:5353"}));
  EXPECT_EQ(ok->dns.persistIssuer, "letsencrypt.org");
  ASSERT_TRUE(ok->dns.persistUntil);
  for (const char* bad : {"ns1.example.test", "192.0.2.53:0", "192.0.2.53:99999", "[2001:db8::53"}) {
    auto r = fromEnv({{"SIDECERT_DNS_RESOLVER", bad}});
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().message.rfind("SIDECERT_DNS_RESOLVER: ", 0), 0u) << r.error().message;
  }
  EXPECT_FALSE(fromEnv({{"SIDECERT_DNS_PERSIST_UNTIL", "next year"}}));
  EXPECT_FALSE(fromEnv({{"SIDECERT_DNS_TSIG_ALGORITHM", "hmac-sha3"}}));
  std::string secretFile = dir.path() + "/tsig";
  std::ofstream(secretFile) << "not base64 at all: s3cr3t!\n";
  auto secret = fromEnv({{"SIDECERT_DNS_TSIG_SECRET_FILE", secretFile}, {"SIDECERT_DNS_TSIG_KEY", "k"}});
  ASSERT_FALSE(secret);
  EXPECT_EQ(secret.error().message.find("s3cr3t"), std::string::npos) << secret.error().message;
  std::ofstream(secretFile) << "c2VjcmV0IG9mIDMyIGJ5dGVzIGZvciBobWFjLXNoYTI1Ng==\n";
  auto half = fromEnv({{"SIDECERT_DNS_TSIG_SECRET_FILE", secretFile}});
  ASSERT_FALSE(half);
  EXPECT_NE(half.error().message.find("needs both SIDECERT_DNS_TSIG_KEY"), std::string::npos);
  auto both = fromEnv({{"SIDECERT_DNS_TSIG_SECRET_FILE", secretFile}, {"SIDECERT_DNS_TSIG_KEY", "sidecert-key."}});
  ASSERT_TRUE(both) << errorOf(both);
  EXPECT_EQ(both->dns.tsigKey, "sidecert-key");
}

// ldns 1.8.3 signs with none of these: a key of one passed check-config and the
// first order failed at "sign the update".
TEST(ChallengeConfig, OnlyTsigAlgorithmsThatCanSignAreAcceptedAndARefusalSaysWhatIs) {
  for (const char* unsignable : {"hmac-sha384", "hmac-sha224"}) {
    auto r = fromEnv({{"SIDECERT_DNS_TSIG_ALGORITHM", unsignable}});
    ASSERT_FALSE(r) << unsignable;
    EXPECT_EQ(r.error().message, std::string("SIDECERT_DNS_TSIG_ALGORITHM: '") + unsignable +
                                     "' is not a TSIG algorithm sidecert can sign with (its DNS library, ldns, cannot): expected hmac-sha256, hmac-sha512, hmac-sha1 or hmac-md5 " +
                                     "(make the key with tsig-keygen -a hmac-sha256)");
  }
  auto unknown = fromEnv({{"SIDECERT_DNS_TSIG_ALGORITHM", "hmac-sha3"}});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().message.rfind("SIDECERT_DNS_TSIG_ALGORITHM: 'hmac-sha3' is not a TSIG algorithm sidecert can "
                                          "sign with: expected hmac-sha256, hmac-sha512, hmac-sha1 or hmac-md5", 0),
            0u)
      << unknown.error().message;
  for (const char* signable : sc::dns::kTsigAlgorithms) {
    auto r = fromEnv({{"SIDECERT_DNS_TSIG_ALGORITHM", signable}});
    ASSERT_TRUE(r) << signable << ": " << errorOf(r);
    EXPECT_EQ(r->dns.tsigAlgorithm, signable);
  }
}

TEST(ChallengeConfig, Dns01NeedsTheServerThatTakesTheUpdates) {
  auto none = fromEnv({{"SIDECERT_DOMAINS", "*.example.test"}, {"SIDECERT_CHALLENGE", "dns-01"}});
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().message.rfind("SIDECERT_DNS_SERVER: dns-01 needs the address of the DNS server", 0), 0u)
      << none.error().message;
  auto ok = fromEnv({{"SIDECERT_DOMAINS", "*.example.test,example.test"}, {"SIDECERT_CHALLENGE", "dns-01"},
                     {"SIDECERT_DNS_SERVER", "192.0.2.53:5353"}, {"SIDECERT_DNS_ZONE", "Example.Test."}});
  ASSERT_TRUE(ok) << errorOf(ok);
  EXPECT_EQ(ok->certificates.front().challenge, ChallengeType::Dns01);
  EXPECT_EQ(ok->dns.zone, "example.test");
  auto ip = fromEnv({{"SIDECERT_DOMAINS", "192.0.2.1"}, {"SIDECERT_CHALLENGE", "dns-01"},
                     {"SIDECERT_DNS_SERVER", "192.0.2.53"}});
  EXPECT_FALSE(ip);
}
