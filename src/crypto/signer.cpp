#include "crypto/signer.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>

#include "crypto/encoding.h"

namespace sc::crypto {
namespace {

struct BnFree {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;

Result<std::string> bnParam(const PrivateKey& key, const char* name, int width) {
  BIGNUM* raw = nullptr;
  if (!EVP_PKEY_get_bn_param(key.raw(), name, &raw)) return fail(std::string("read key parameter ") + name);
  BnPtr bn(raw);
  int len = width > 0 ? width : BN_num_bytes(bn.get());
  std::string out(static_cast<std::size_t>(len), '\0');
  BN_bn2binpad(bn.get(), reinterpret_cast<unsigned char*>(out.data()), len);
  return out;
}

// ECDSA signatures in JWS are r||s, each padded to the curve's size (RFC 7518 3.4).
Result<std::string> derToRaw(const std::string& der, int half) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  if (!sig) return fail("decode ECDSA signature: " + opensslError());
  std::string out(static_cast<std::size_t>(2 * half), '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(sig), reinterpret_cast<unsigned char*>(out.data()), half);
  BN_bn2binpad(ECDSA_SIG_get0_s(sig), reinterpret_cast<unsigned char*>(out.data()) + half, half);
  ECDSA_SIG_free(sig);
  return out;
}

int ecHalf(const std::string& alg) { return alg == "ES384" ? 48 : 32; }

}  // namespace

std::string rsaJwk(const std::string& n, const std::string& e) {
  return R"({"e":")" + base64url(e) + R"(","kty":"RSA","n":")" + base64url(n) + R"("})";
}

std::string ecJwk(const std::string& crv, const std::string& x, const std::string& y) {
  return R"({"crv":")" + crv + R"(","kty":"EC","x":")" + base64url(x) + R"(","y":")" + base64url(y) + R"("})";
}

std::string jwkThumbprint(const std::string& jwk) { return base64url(sha256(jwk)); }

Result<KeySigner> KeySigner::create(PrivateKey key) {
  std::string desc = key.describe();
  if (key.isRsa()) {
    auto n = bnParam(key, OSSL_PKEY_PARAM_RSA_N, 0);
    auto e = bnParam(key, OSSL_PKEY_PARAM_RSA_E, 0);
    if (!n || !e) return fail("account key: cannot read the RSA public key");
    return KeySigner(std::move(key), "RS256", rsaJwk(*n, *e));
  }
  std::string alg = desc == "EC P-256" ? "ES256" : desc == "EC P-384" ? "ES384" : "";
  if (alg.empty()) return fail("account key: " + desc + " is not usable for ACME (use P-256, P-384 or RSA)");
  auto x = bnParam(key, OSSL_PKEY_PARAM_EC_PUB_X, ecHalf(alg));
  auto y = bnParam(key, OSSL_PKEY_PARAM_EC_PUB_Y, ecHalf(alg));
  if (!x || !y) return fail("account key: cannot read the EC public key");
  return KeySigner(std::move(key), alg, ecJwk(alg == "ES256" ? "P-256" : "P-384", *x, *y));
}

std::string KeySigner::thumbprint() const { return jwkThumbprint(jwk_); }

Result<std::string> KeySigner::sign(const std::string& data) const {
  const EVP_MD* md = alg_ == "ES384" ? EVP_sha384() : EVP_sha256();
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  size_t len = 0;
  if (EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, key_.raw()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1)
    return fail("sign: " + opensslError());
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1)
    return fail("sign: " + opensslError());
  sig.resize(len);
  if (alg_ == "RS256") return sig;
  return derToRaw(sig, ecHalf(alg_));
}

}  // namespace sc::crypto
