#include "crypto/cert.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ctime>

#include "core/domain.h"
#include "core/time_format.h"
#include "crypto/encoding.h"

namespace sc::crypto {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

std::string bioText(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

std::string nameLine(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253);
  return bioText(bio.get());
}

std::optional<TimePoint> asn1Time(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return std::nullopt;
  return fromUnixSeconds(timegm(&tm));
}

bool validityReadable(X509* x) {
  return asn1Time(X509_get0_notBefore(x)) && asn1Time(X509_get0_notAfter(x));
}

int countBlocks(const std::string& pem) {
  int n = 0;
  for (std::size_t at = pem.find("-----BEGIN CERTIFICATE-----"); at != std::string::npos;
       at = pem.find("-----BEGIN CERTIFICATE-----", at + 1))
    ++n;
  return n;
}

}  // namespace

void Certificate::Free::operator()(x509_st* c) const { X509_free(c); }

Certificate Certificate::adopt(x509_st* owned) { return Certificate(owned); }

Result<std::vector<Certificate>> Certificate::parseAll(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  std::vector<Certificate> certs;
  while (X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    certs.push_back(Certificate(x));
    if (!validityReadable(x))
      return fail("certificate " + std::to_string(certs.size()) + " in it has a validity period that cannot be read");
  }
  ERR_clear_error();
  int blocks = countBlocks(pem);
  if (certs.empty() && blocks == 0) return fail("no PEM certificate in it");
  if (static_cast<int>(certs.size()) != blocks)
    return fail("certificate " + std::to_string(certs.size() + 1) + " in it is damaged");
  return certs;
}

std::string Certificate::toPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert_.get()) != 1) return "";
  return bioText(bio.get());
}

std::string Certificate::subject() const { return nameLine(X509_get_subject_name(cert_.get())); }
std::string Certificate::issuer() const { return nameLine(X509_get_issuer_name(cert_.get())); }

std::string Certificate::serialHex() const {
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert_.get()), nullptr);
  char* hex = BN_bn2hex(bn);
  std::string out = hex ? hex : "";
  OPENSSL_free(hex);
  BN_free(bn);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// parseAll refuses unreadable times; a certificate from elsewhere counts as not valid.
TimePoint Certificate::notBefore() const {
  return asn1Time(X509_get0_notBefore(cert_.get())).value_or(latestTime());
}
TimePoint Certificate::notAfter() const { return asn1Time(X509_get0_notAfter(cert_.get())).value_or(earliestTime()); }

std::vector<std::string> Certificate::names() const {
  std::vector<std::string> names;
  auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert_.get(), NID_subject_alt_name, nullptr, nullptr));
  if (sans) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
      const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans, i);
      if (gn->type == GEN_DNS) {
        const ASN1_IA5STRING* s = gn->d.dNSName;
        names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                           static_cast<std::size_t>(ASN1_STRING_length(s)));
      } else if (gn->type == GEN_IPADD) {
        const ASN1_OCTET_STRING* ip = gn->d.iPAddress;
        int len = ASN1_STRING_length(ip);
        char text[INET6_ADDRSTRLEN] = {0};
        int family = len == 4 ? AF_INET : len == 16 ? AF_INET6 : 0;
        if (family != 0 && ::inet_ntop(family, ASN1_STRING_get0_data(ip), text, sizeof text) != nullptr)
          names.emplace_back(text);
      }
    }
    GENERAL_NAMES_free(sans);
  }
  if (names.empty()) {
    char cn[256] = {0};
    if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert_.get()), NID_commonName, cn, sizeof cn) > 0)
      names.emplace_back(cn);
  }
  return names;
}

bool Certificate::covers(const std::string& name) const {
  if (isIpAddress(name)) {
    bool ok = X509_check_ip_asc(cert_.get(), name.c_str(), 0) == 1;
    ERR_clear_error();
    return ok;
  }
  return X509_check_host(cert_.get(), name.data(), name.size(), 0, nullptr) == 1;
}

std::string subjectAltNames(const std::vector<std::string>& names) {
  std::string san;
  for (const auto& n : names) san += std::string(san.empty() ? "" : ",") + (isIpAddress(n) ? "IP:" : "DNS:") + n;
  return san;
}

bool Certificate::matches(const PrivateKey& key) const {
  bool ok = X509_check_private_key(cert_.get(), key.raw()) == 1;
  ERR_clear_error();
  return ok;
}

bool Certificate::isSelfIssued() const { return issuedBy(*this); }

bool Certificate::issuedBy(const Certificate& issuer) const {
  // Names and signature, not key usage: a self-signed leaf has no keyCertSign
  // and still signed itself.
  if (X509_NAME_cmp(X509_get_subject_name(issuer.cert_.get()), X509_get_issuer_name(cert_.get())) != 0) return false;
  bool ok = X509_verify(cert_.get(), X509_get0_pubkey(issuer.cert_.get())) == 1;
  ERR_clear_error();
  return ok;
}

bool Certificate::sameAs(const Certificate& other) const { return X509_cmp(cert_.get(), other.cert_.get()) == 0; }

std::string Certificate::der() const {
  int len = i2d_X509(cert_.get(), nullptr);
  std::string out(static_cast<std::size_t>(len), '\0');
  unsigned char* p = reinterpret_cast<unsigned char*>(out.data());
  i2d_X509(cert_.get(), &p);
  return out;
}

std::string Certificate::ariCertId() const {
  const ASN1_OCTET_STRING* aki = X509_get0_authority_key_id(cert_.get());
  if (!aki) return "";
  const ASN1_INTEGER* serial = X509_get0_serialNumber(cert_.get());
  std::string keyId(reinterpret_cast<const char*>(ASN1_STRING_get0_data(aki)), ASN1_STRING_length(aki));
  // The DER encoding of the serial's value: a leading zero where the top bit is set.
  std::string serialBytes(reinterpret_cast<const char*>(ASN1_STRING_get0_data(serial)), ASN1_STRING_length(serial));
  if (!serialBytes.empty() && (static_cast<unsigned char>(serialBytes[0]) & 0x80)) serialBytes.insert(0, 1, '\0');
  return base64url(keyId) + "." + base64url(serialBytes);
}

std::string Certificate::issuerCommonName() const {
  char cn[256] = {0};
  if (X509_NAME_get_text_by_NID(X509_get_issuer_name(cert_.get()), NID_commonName, cn, sizeof cn) > 0) return cn;
  return "";
}

}  // namespace sc::crypto
