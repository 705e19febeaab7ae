#include "crypto/self_sign.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/time_format.h"

namespace sc::crypto {
namespace {

constexpr auto kBackdate = std::chrono::hours(1);

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};

Status addExtension(X509* cert, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (!ext) return fail("self-signed certificate: extension " + value + ": " + opensslError());
  int added = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  if (added != 1) return fail("self-signed certificate: add extension " + value + ": " + opensslError());
  return {};
}

Status setRandomSerial(X509* cert) {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return fail("self-signed certificate: serial: " + opensslError());
  // Positive, as RFC 5280 4.1.2.2 requires, and never with a leading zero byte, which
  // DER drops: every serial is 16 bytes (126 random bits).
  bytes[0] = static_cast<unsigned char>((bytes[0] & 0x3f) | 0x40);
  BIGNUM* bn = BN_bin2bn(bytes, sizeof bytes, nullptr);
  bool set = bn != nullptr && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != nullptr;
  BN_free(bn);
  if (!set) return fail("self-signed certificate: serial: " + opensslError());
  return {};
}

}  // namespace

Result<Certificate> selfSign(const PrivateKey& key, const std::vector<std::string>& names, TimePoint now,
                             std::chrono::seconds lifetime) {
  if (names.empty()) return fail("self-signed certificate: no name to issue it for");
  std::unique_ptr<X509, X509Free> cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1)
    return fail("self-signed certificate: new: " + opensslError());
  if (auto ok = setRandomSerial(cert.get()); !ok) return std::unexpected(ok.error());
  if (!ASN1_TIME_set(X509_getm_notBefore(cert.get()), toUnixSeconds(now - kBackdate)) ||
      !ASN1_TIME_set(X509_getm_notAfter(cert.get()), toUnixSeconds(now + lifetime)))
    return fail("self-signed certificate: validity: " + opensslError());
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(names[0].c_str()),
                                 -1, -1, 0) != 1 ||
      X509_set_issuer_name(cert.get(), name) != 1 || X509_set_pubkey(cert.get(), key.raw()) != 1)
    return fail("self-signed certificate: subject " + names[0] + ": " + opensslError());

  std::string san = subjectAltNames(names);
  const std::string usage = key.isRsa() ? "critical,digitalSignature,keyEncipherment" : "critical,digitalSignature";
  for (auto [nid, value] : {std::pair{NID_basic_constraints, std::string("critical,CA:FALSE")},
                            std::pair{NID_key_usage, usage}, std::pair{NID_ext_key_usage, std::string("serverAuth")},
                            std::pair{NID_subject_key_identifier, std::string("hash")},
                            std::pair{NID_subject_alt_name, san}})
    if (auto ok = addExtension(cert.get(), nid, value); !ok) return std::unexpected(ok.error());

  const EVP_MD* digest = key.describe() == "EC P-384" ? EVP_sha384() : EVP_sha256();
  if (X509_sign(cert.get(), key.raw(), digest) <= 0)
    return fail("self-signed certificate: sign: " + opensslError());
  return Certificate::adopt(cert.release());
}

}  // namespace sc::crypto
