#include "crypto/key.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

namespace sc::crypto {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

int refusePassphrase(char*, int, int, void*) { return -1; }

}  // namespace

void PrivateKey::Free::operator()(evp_pkey_st* k) const { EVP_PKEY_free(k); }

Result<PrivateKey> PrivateKey::share() const {
  if (EVP_PKEY_up_ref(key_.get()) != 1) return fail("share a key: " + opensslError());
  return PrivateKey(key_.get());
}

std::string opensslError() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof buf);
  return buf;
}

Result<PrivateKey> PrivateKey::generate(KeyType type) {
  EVP_PKEY* k = nullptr;
  switch (type) {
    case KeyType::Ec256: k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"); break;
    case KeyType::Ec384: k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"); break;
    case KeyType::Rsa2048: k = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048}); break;
    case KeyType::Rsa3072: k = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{3072}); break;
    case KeyType::Rsa4096: k = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{4096}); break;
  }
  if (!k) return fail(std::string("generate ") + keyTypeName(type) + " key: " + opensslError());
  return PrivateKey(k);
}

Result<PrivateKey> PrivateKey::fromPem(const std::string& pem) {
  if (pem.find("ENCRYPTED") != std::string::npos)
    return fail("the key is encrypted with a passphrase; give it unencrypted (openssl pkey -in KEY -out KEY.pem)");
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EVP_PKEY* k = PEM_read_bio_PrivateKey(bio.get(), nullptr, refusePassphrase, nullptr);
  if (!k) {
    ERR_clear_error();
    return fail("no PEM private key in it");
  }
  return PrivateKey(k);
}

std::string PrivateKey::toPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) return "";
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

bool PrivateKey::isRsa() const { return EVP_PKEY_is_a(key_.get(), "RSA"); }

std::string PrivateKey::describe() const {
  if (isRsa()) return "RSA " + std::to_string(EVP_PKEY_get_bits(key_.get()));
  char group[64] = {0};
  size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(key_.get(), "group", group, sizeof group, &len) == 1) {
    std::string g(group, len);
    if (g == "prime256v1") g = "P-256";
    if (g == "secp384r1") g = "P-384";
    return "EC " + g;
  }
  return EVP_PKEY_get0_type_name(key_.get()) ? EVP_PKEY_get0_type_name(key_.get()) : "unknown";
}

}  // namespace sc::crypto
