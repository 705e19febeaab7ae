#include <gtest/gtest.h>

#include <set>

#include "crypto/cert.h"
#include "crypto/key.h"
#include "crypto/self_sign.h"
#include "core/time_format.h"

using namespace sc;
using namespace sc::crypto;
using namespace std::chrono;

TEST(Crypto, EachKeyTypeGeneratesAndRoundTripsThroughPem) {
  const std::pair<KeyType, const char*> types[] = {
      {KeyType::Ec256, "EC P-256"}, {KeyType::Ec384, "EC P-384"}, {KeyType::Rsa2048, "RSA 2048"}};
  for (auto [type, name] : types) {
    auto key = PrivateKey::generate(type);
    ASSERT_TRUE(key) << name;
    EXPECT_EQ(key->describe(), name);
    auto again = PrivateKey::fromPem(key->toPem());
    ASSERT_TRUE(again);
    EXPECT_EQ(again->toPem(), key->toPem());
  }
}

TEST(Crypto, EncryptedAndGarbageKeysAreRefusedWithTheReason) {
  auto enc = PrivateKey::fromPem("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n");
  ASSERT_FALSE(enc);
  EXPECT_NE(enc.error().message.find("encrypted"), std::string::npos);
  auto junk = PrivateKey::fromPem("hello");
  ASSERT_FALSE(junk);
  EXPECT_EQ(junk.error().message, "no PEM private key in it");
}

TEST(Crypto, SelfSignedCertificateCoversNamesAndMatchesItsKey) {
  auto key = PrivateKey::generate(KeyType::Ec256);
  auto other = PrivateKey::generate(KeyType::Ec256);
  TimePoint now = fromUnixSeconds(1'800'000'000);
  auto cert = selfSign(*key, {"a.test", "b.test"}, now, hours(24 * 90));
  ASSERT_TRUE(cert) << cert.error().message;
  EXPECT_EQ(cert->names(), (std::vector<std::string>{"a.test", "b.test"}));
  EXPECT_TRUE(cert->covers("b.test"));
  EXPECT_FALSE(cert->covers("c.test"));
  EXPECT_TRUE(cert->matches(*key));
  EXPECT_FALSE(cert->matches(*other));
  EXPECT_TRUE(cert->isSelfIssued());
  EXPECT_EQ(cert->subject(), "CN=a.test");
  EXPECT_EQ(cert->notAfter(), now + hours(24 * 90));
  EXPECT_LT(cert->notBefore(), now);  // backdated for clock skew
  EXPECT_EQ(cert->serialHex().size(), 32u);
}

TEST(Crypto, ParseAllReadsEveryCertificateAndRefusesDamage) {
  auto key = PrivateKey::generate(KeyType::Ec256);
  TimePoint now = wallClockNow();
  auto a = selfSign(*key, {"a.test"}, now, hours(1));
  auto b = selfSign(*key, {"b.test"}, now, hours(1));
  auto both = Certificate::parseAll("junk before\n" + a->toPem() + b->toPem());
  ASSERT_TRUE(both);
  ASSERT_EQ(both->size(), 2u);
  EXPECT_TRUE((*both)[1].sameAs(*b));
  EXPECT_FALSE(Certificate::parseAll("nothing here"));
  std::string damaged = a->toPem();
  damaged[damaged.size() / 2] = '#';
  auto bad = Certificate::parseAll(damaged);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("damaged"), std::string::npos);
}

// openssl req -x509 -days 100000: valid until 2300, past where nanosecond clocks end (2262).
const char* const kValidUntil2300 = R"(-----BEGIN CERTIFICATE-----
MIIBhjCCASugAwIBAgIUI6ZsOBIKdWvcG5P5IWXQOKGf5MYwCgYIKoZIzj0EAwIw
FzEVMBMGA1UEAwwMZm9yZXZlci50ZXN0MCAXDTI2MTEzMDE5MjI0MloYDzIzMDAw
OTE1MTkyMjQyWjAXMRUwEwYDVQQDDAxmb3JldmVyLnRlc3QwWTATBgcqhkjOPQIB
BggqhkjOPQMBBwNCAAS0SJ/xhDvddNFIYR00vETmLdF8X2JWOclvE1xYXZeRy3/2
YUfB2iqtCw5JFqVeQiA26n6qc9pIFONPUKWGqcnUo1MwUTAdBgNVHQ4EFgQU4UZl
EMiuCbP6EItfOCVH6kn5M4kwHwYDVR0jBBgwFoAU4UZlEMiuCbP6EItfOCVH6kn5
M4kwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNJADBGAiEAraRLY7RgVg0c
uq0wBgBrNICoHVx7Ot3ATm1LRGp4TIoCIQCzNe3hwi8xEV/7shnXeELYcEllWHbU
7FX3FoWYy/74xA==
-----END CERTIFICATE-----
)";

TEST(Crypto, ValidityPastTheNanosecondRangeIsReadExactly) {
  auto certs = Certificate::parseAll(kValidUntil2300);
  ASSERT_TRUE(certs) << certs.error().message;
  EXPECT_EQ(formatTime(certs->front().notAfter()), "2300-09-15T19:22:42Z");
  EXPECT_EQ(formatTime(certs->front().notBefore()), "2026-11-30T19:22:42Z");
}

// RFC 5280 4.1.2.5: 99991231235959Z means "no well-defined expiration date".
TEST(Crypto, ValidityUntilTheLastSecondOf9999RoundTrips) {
  auto key = PrivateKey::generate(KeyType::Ec256);
  ASSERT_TRUE(key);
  TimePoint now = fromUnixSeconds(1'800'000'000);
  TimePoint last = *parseTime("9999-12-31T23:59:59Z");
  auto cert = selfSign(*key, {"forever.test"}, now, std::chrono::duration_cast<std::chrono::seconds>(last - now));
  ASSERT_TRUE(cert) << cert.error().message;
  auto read = Certificate::parseAll(cert->toPem());
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(read->front().notAfter(), last);
  EXPECT_EQ(formatTime(read->front().notAfter()), "9999-12-31T23:59:59Z");
  // Arithmetic the renewal policy does on it stays in range.
  EXPECT_GT(read->front().notAfter() + hours(24 * 365 * 100), last);
}

// A leading zero byte would be dropped by DER: 1 serial in 128 came out shorter.
TEST(Crypto, SelfSignedSerialsAreDistinctAndAlwaysSixteenBytes) {
  auto key = PrivateKey::generate(KeyType::Ec256);
  ASSERT_TRUE(key);
  std::set<std::string> seen;
  for (int i = 0; i < 500; ++i) {
    auto cert = selfSign(*key, {"a.test"}, fromUnixSeconds(1'800'000'000), hours(1));
    ASSERT_TRUE(cert) << cert.error().message;
    ASSERT_EQ(cert->serialHex().size(), 32u) << cert->serialHex();
    seen.insert(cert->serialHex());
  }
  EXPECT_EQ(seen.size(), 500u);
}
