#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "crypto/csr.h"
#include "crypto/encoding.h"
#include "crypto/signer.h"

using namespace sc;
using namespace sc::crypto;

TEST(Jws, Rfc7638ThumbprintTestVector) {
  // RFC 7638 section 3.1
  const std::string n64 =
      "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjh"
      "Mstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQv"
      "RL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnq"
      "DKgw";
  auto n = base64urlDecode(n64);
  auto e = base64urlDecode("AQAB");
  ASSERT_TRUE(n && e);
  EXPECT_EQ(jwkThumbprint(rsaJwk(*n, *e)), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
}

TEST(Jws, Base64urlHasNoPaddingAndUrlAlphabet) {
  EXPECT_EQ(base64url(std::string("\xfb\xff\xfe", 3)), "-__-");
  EXPECT_EQ(base64url("a"), "YQ");
  EXPECT_EQ(*base64urlDecode("-__-"), std::string("\xfb\xff\xfe", 3));
}

TEST(Jws, Es256SignatureIsRawRAndSAndVerifies) {
  auto key = PrivateKey::generate(KeyType::Ec256);
  std::string pem = key->toPem();
  auto signer = KeySigner::create(std::move(*key));
  ASSERT_TRUE(signer);
  EXPECT_EQ(signer->alg(), "ES256");
  EXPECT_EQ(signer->jwk().rfind(R"({"crv":"P-256","kty":"EC","x":")", 0), 0u);
  auto sig = signer->sign("protected.payload");
  ASSERT_TRUE(sig);
  ASSERT_EQ(sig->size(), 64u);
  // Back to DER and verified with the key's public half.
  ECDSA_SIG* ecdsa = ECDSA_SIG_new();
  ECDSA_SIG_set0(ecdsa, BN_bin2bn(reinterpret_cast<const unsigned char*>(sig->data()), 32, nullptr),
                 BN_bin2bn(reinterpret_cast<const unsigned char*>(sig->data()) + 32, 32, nullptr));
  unsigned char* der = nullptr;
  int derLen = i2d_ECDSA_SIG(ecdsa, &der);
  auto again = PrivateKey::fromPem(pem);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, again->raw());
  const std::string data = "protected.payload";
  EXPECT_EQ(EVP_DigestVerify(ctx, der, static_cast<size_t>(derLen), reinterpret_cast<const unsigned char*>(data.data()),
                             data.size()),
            1);
  EVP_MD_CTX_free(ctx);
  OPENSSL_free(der);
  ECDSA_SIG_free(ecdsa);
}

TEST(Jws, Es384AndRs256) {
  auto ec384 = KeySigner::create(*PrivateKey::generate(KeyType::Ec384));
  EXPECT_EQ(ec384->alg(), "ES384");
  EXPECT_EQ(ec384->sign("x")->size(), 96u);
  auto rsa = KeySigner::create(*PrivateKey::generate(KeyType::Rsa2048));
  EXPECT_EQ(rsa->alg(), "RS256");
  EXPECT_EQ(rsa->sign("x")->size(), 256u);
  EXPECT_EQ(rsa->jwk().rfind(R"({"e":"AQAB","kty":"RSA","n":")", 0), 0u);
}

TEST(Jws, CsrNamesEveryDomainAndIsSignedByTheKey) {
  auto key = PrivateKey::generate(KeyType::Ec256);
  auto der = makeCsr(*key, {"a.test", "b.test"});
  ASSERT_TRUE(der);
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der->data());
  X509_REQ* req = d2i_X509_REQ(nullptr, &p, static_cast<long>(der->size()));
  ASSERT_NE(req, nullptr);
  EXPECT_EQ(X509_REQ_verify(req, key->raw()), 1);
  char cn[64] = {0};
  X509_NAME_get_text_by_NID(X509_REQ_get_subject_name(req), NID_commonName, cn, sizeof cn);
  EXPECT_STREQ(cn, "a.test");
  STACK_OF(X509_EXTENSION)* exts = X509_REQ_get_extensions(req);
  bool sawBoth = false;
  for (int i = 0; i < sk_X509_EXTENSION_num(exts); ++i) {
    X509_EXTENSION* ext = sk_X509_EXTENSION_value(exts, i);
    if (OBJ_obj2nid(X509_EXTENSION_get_object(ext)) != NID_subject_alt_name) continue;
    auto* names = static_cast<GENERAL_NAMES*>(X509V3_EXT_d2i(ext));
    sawBoth = sk_GENERAL_NAME_num(names) == 2;
    GENERAL_NAMES_free(names);
  }
  EXPECT_TRUE(sawBoth);
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  X509_REQ_free(req);
}
