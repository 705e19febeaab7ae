#include "crypto/csr.h"

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>

#include "core/domain.h"
#include "crypto/cert.h"

namespace sc::crypto {

Result<std::string> makeCsr(const PrivateKey& key, const std::vector<std::string>& names) {
  if (names.empty()) return fail("CSR: no name");
  std::unique_ptr<X509_REQ, void (*)(X509_REQ*)> req(X509_REQ_new(), X509_REQ_free);
  if (!req || X509_REQ_set_version(req.get(), 0) != 1) return fail("CSR: new: " + opensslError());
  // The first DNS name as CN; none where all are IP addresses (a CA puts no
  // address in a CN: Let's Encrypt's short-lived IP certificates have none).
  auto cn = std::find_if(names.begin(), names.end(), [](const std::string& n) { return !isIpAddress(n); });
  if (cn != names.end() &&
      X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req.get()), "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(cn->c_str()), -1, -1, 0) != 1)
    return fail("CSR: subject " + *cn + ": " + opensslError());
  std::string san = subjectAltNames(names);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, nullptr, NID_subject_alt_name, san.c_str());
  if (!ext) return fail("CSR: subjectAltName: " + opensslError());
  STACK_OF(X509_EXTENSION)* exts = sk_X509_EXTENSION_new_null();
  bool added = exts && sk_X509_EXTENSION_push(exts, ext) > 0;
  if (!added) X509_EXTENSION_free(ext);
  added = added && X509_REQ_add_extensions(req.get(), exts) == 1;
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  if (!added) return fail("CSR: extensions: " + opensslError());
  if (X509_REQ_set_pubkey(req.get(), key.raw()) != 1) return fail("CSR: public key: " + opensslError());
  const EVP_MD* md = key.describe() == "EC P-384" ? EVP_sha384() : EVP_sha256();
  if (X509_REQ_sign(req.get(), key.raw(), md) <= 0) return fail("CSR: sign: " + opensslError());
  int len = i2d_X509_REQ(req.get(), nullptr);
  if (len <= 0) return fail("CSR: encode: " + opensslError());
  std::string der(static_cast<std::size_t>(len), '\0');
  unsigned char* p = reinterpret_cast<unsigned char*>(der.data());
  if (i2d_X509_REQ(req.get(), &p) != len) return fail("CSR: encode: " + opensslError());
  return der;
}

}  // namespace sc::crypto
