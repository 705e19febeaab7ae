// Names a certificate is for: DNS names and IP addresses (RFC 8738), checked and
// written one way, whatever spelling was configured.
#include <gtest/gtest.h>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "config/load.h"
#include "config/settings.h"
#include "core/domain.h"
#include "core/time_format.h"
#include "crypto/cert.h"
#include "crypto/csr.h"
#include "crypto/key.h"
#include "crypto/self_sign.h"

using namespace sc;
using namespace std::chrono;

TEST(Identifier, AddressesAreWrittenCanonically) {
  EXPECT_EQ(*validateIdentifier("127.0.0.1"), "127.0.0.1");
  EXPECT_EQ(*validateIdentifier("::1"), "::1");
  EXPECT_EQ(*validateIdentifier("2001:DB8:0:0:0:0:0:1"), "2001:db8::1");            // RFC 5952 4.2, 4.3
  EXPECT_EQ(*validateIdentifier("2001:db8:0:1:0:0:0:1"), "2001:db8:0:1::1");         // the longest run of zeros
  EXPECT_EQ(*validateIdentifier("2001:0db8:0000:0000:0001:0000:0000:0001"), "2001:db8::1:0:0:1");  // the first of two
  EXPECT_EQ(*validateIdentifier("2001:db8:0:1:1:1:1:1"), "2001:db8:0:1:1:1:1:1");    // one zero group stays
  EXPECT_EQ(*validateIdentifier("Example.TEST"), "example.test");
  EXPECT_TRUE(isIpAddress("::1"));
  EXPECT_TRUE(isIpAddress("192.0.2.7"));
  EXPECT_FALSE(isIpAddress("2001:DB8::1"));  // not canonical
  EXPECT_FALSE(isIpAddress("example.test"));
}

TEST(Identifier, AmbiguousSpellingsAreRefusedNamingTheAddressTheyMean) {
  const std::pair<const char*, const char*> cases[] = {
      {"127.1", "127.0.0.1"}, {"0x7f.0.0.1", "127.0.0.1"}, {"2130706433", "127.0.0.1"},
      {"0177.0.0.1", "127.0.0.1"}, {"010.0.0.1", "8.0.0.1"}};
  for (auto [spelling, meant] : cases) {
    auto r = validateIdentifier(spelling);
    ASSERT_FALSE(r) << spelling;
    EXPECT_NE(r.error().message.find(std::string("write it as ") + meant), std::string::npos) << r.error().message;
  }
  for (const char* bad : {"[::1]", "fe80::1%eth0", "::1:80:", "1.2.3.999", "*.example.test"})
    EXPECT_FALSE(validateIdentifier(bad)) << bad;
  EXPECT_FALSE(validateDomain("127.0.0.1"));  // where only a DNS name will do (an e-mail address's domain)
}

TEST(Identifier, CsrAndSelfSignedCarryIpAddressSans) {
  auto key = crypto::PrivateKey::generate(KeyType::Ec256);
  ASSERT_TRUE(key);
  auto cert = crypto::selfSign(*key, {"example.test", "127.0.0.1", "2001:db8::1"}, fromUnixSeconds(1'800'000'000), hours(1));
  ASSERT_TRUE(cert) << cert.error().message;
  EXPECT_EQ(cert->names(), (std::vector<std::string>{"example.test", "127.0.0.1", "2001:db8::1"}));
  EXPECT_TRUE(cert->covers("127.0.0.1"));
  EXPECT_TRUE(cert->covers("2001:db8::1"));
  EXPECT_FALSE(cert->covers("127.0.0.2"));
  EXPECT_FALSE(cert->covers("::1"));
  auto dnsOnly = crypto::selfSign(*key, {"127.0.0.1.example.test"}, fromUnixSeconds(1'800'000'000), hours(1));
  EXPECT_FALSE(dnsOnly->covers("127.0.0.1"));  // an address is matched only by an iPAddress entry

  for (const auto& names : {std::vector<std::string>{"::1", "127.0.0.1"}, std::vector<std::string>{"127.0.0.1", "a.test"}}) {
    auto der = crypto::makeCsr(*key, names);
    ASSERT_TRUE(der) << der.error().message;
    const unsigned char* p = reinterpret_cast<const unsigned char*>(der->data());
    std::unique_ptr<X509_REQ, void (*)(X509_REQ*)> req(d2i_X509_REQ(nullptr, &p, static_cast<long>(der->size())),
                                                       X509_REQ_free);
    ASSERT_TRUE(req);
    char cn[256] = {0};
    int got = X509_NAME_get_text_by_NID(X509_REQ_get_subject_name(req.get()), NID_commonName, cn, sizeof cn);
    if (names[1] == "a.test")
      EXPECT_STREQ(cn, "a.test");  // the first DNS name, not the address before it
    else
      EXPECT_EQ(got, -1) << "no CN where every name is an address";
    auto* exts = X509_REQ_get_extensions(req.get());
    auto* sans = static_cast<GENERAL_NAMES*>(X509V3_get_d2i(exts, NID_subject_alt_name, nullptr, nullptr));
    ASSERT_TRUE(sans);
    int ips = 0;
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) ips += sk_GENERAL_NAME_value(sans, i)->type == GEN_IPADD;
    EXPECT_EQ(ips, names[1] == "a.test" ? 1 : 2);
    GENERAL_NAMES_free(sans);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  }
}

TEST(Identifier, DomainsTakeAddressesAndCheckConfigWarnsOfLetsEncryptWithoutShortlived) {
  Environment env{{"SIDECERT_DOMAINS", "example.test, 2001:DB8::1,127.0.0.1"}, {"SIDECERT_NAME", "gw"}};
  auto s = loadSettings(std::nullopt, env, "host");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->domains, (std::vector<std::string>{"example.test", "2001:db8::1", "127.0.0.1"}));
  auto warnings = settingsWarnings(*s);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("SIDECERT_ACME_PROFILE=shortlived"), std::string::npos) << warnings[0];
  env["SIDECERT_ACME_PROFILE"] = "shortlived";
  EXPECT_TRUE(settingsWarnings(*loadSettings(std::nullopt, env, "host")).empty());
  env.erase("SIDECERT_ACME_PROFILE");
  env["SIDECERT_ACME_DIRECTORY"] = "https://ca.test/dir";  // another CA: its own rules
  EXPECT_TRUE(settingsWarnings(*loadSettings(std::nullopt, env, "host")).empty());

  auto ambiguous = loadSettings(std::nullopt, {{"SIDECERT_DOMAINS", "127.1"}}, "host");
  ASSERT_FALSE(ambiguous);
  EXPECT_NE(ambiguous.error().message.find("SIDECERT_DOMAINS"), std::string::npos) << ambiguous.error().message;
  EXPECT_NE(ambiguous.error().message.find("write it as 127.0.0.1"), std::string::npos);
  auto v6name = loadSettings(std::nullopt, {{"SIDECERT_DOMAINS", "::1"}}, "host");
  ASSERT_FALSE(v6name);  // an IPv6 address cannot name the folders
  EXPECT_NE(v6name.error().message.find("SIDECERT_NAME"), std::string::npos) << v6name.error().message;
  EXPECT_FALSE(loadSettings(std::nullopt, {{"SIDECERT_EMAIL", "ops@127.0.0.1"}}, "host"));
}
