#pragma once
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "crypto/key.h"

struct x509_st;

namespace sc::crypto {

class Certificate {
 public:
  // Every certificate in a PEM text, in order. None, or a damaged block, is an error.
  static Result<std::vector<Certificate>> parseAll(const std::string& pem);
  static Certificate adopt(x509_st* owned);

  std::string toPem() const;  // empty if OpenSSL could not encode it
  std::string subject() const;   // one line, RFC 2253
  std::string issuer() const;
  std::string serialHex() const;
  TimePoint notBefore() const;
  TimePoint notAfter() const;
  // subjectAltName DNS entries and IP addresses (canonical text), else the CN.
  std::vector<std::string> names() const;
  // A DNS name (with wildcard matching) or an IP address in canonical form.
  bool covers(const std::string& name) const;
  bool matches(const PrivateKey& key) const;
  bool isSelfIssued() const;
  bool issuedBy(const Certificate& issuer) const;  // names link and the signature verifies
  bool sameAs(const Certificate& other) const;
  std::string der() const;
  // ARI's certificate identifier (RFC 9773 4.1): base64url(AKI keyIdentifier) "."
  // base64url(serial); empty when the certificate has no AKI.
  std::string ariCertId() const;
  std::string issuerCommonName() const;
  x509_st* raw() const { return cert_.get(); }

 private:
  struct Free {
    void operator()(x509_st* c) const;
  };
  explicit Certificate(x509_st* c) : cert_(c, Free{}) {}
  std::shared_ptr<x509_st> cert_;
};

// The subjectAltName extension's value for `names` in OpenSSL's configuration
// syntax: "DNS:example.org,IP:127.0.0.1" (names already checked: no commas).
std::string subjectAltNames(const std::vector<std::string>& names);

}  // namespace sc::crypto
