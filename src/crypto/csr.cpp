#include "crypto/csr.h"

#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace sc::crypto {

Result<std::string> makeCsr(const PrivateKey& key, const std::vector<std::string>& names) {
  if (names.empty()) return fail("CSR: no name");
  std::unique_ptr<X509_REQ, void (*)(X509_REQ*)> req(X509_REQ_new(), X509_REQ_free);
  X509_REQ_set_version(req.get(), 0);
  X509_NAME* subject = X509_REQ_get_subject_name(req.get());
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(names[0].c_str()),
                             -1, -1, 0);
  std::string san;
  for (const auto& n : names) san += (san.empty() ? "DNS:" : ",DNS:") + n;
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, nullptr, NID_subject_alt_name, san.c_str());
  if (!ext) return fail("CSR: subjectAltName: " + opensslError());
  STACK_OF(X509_EXTENSION)* exts = sk_X509_EXTENSION_new_null();
  sk_X509_EXTENSION_push(exts, ext);
  X509_REQ_add_extensions(req.get(), exts);
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  X509_REQ_set_pubkey(req.get(), key.raw());
  const EVP_MD* md = key.describe() == "EC P-384" ? EVP_sha384() : EVP_sha256();
  if (X509_REQ_sign(req.get(), key.raw(), md) <= 0) return fail("CSR: sign: " + opensslError());
  int len = i2d_X509_REQ(req.get(), nullptr);
  std::string der(static_cast<std::size_t>(len), '\0');
  unsigned char* p = reinterpret_cast<unsigned char*>(der.data());
  i2d_X509_REQ(req.get(), &p);
  return der;
}

}  // namespace sc::crypto
