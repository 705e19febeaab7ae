#pragma once
// What the ACME client may do with the account key: show its public half and
// sign. The key itself never reaches the network code (OpenBSD acme-client keeps
// keys in a process of their own for the same reason).
#include <string>

#include "core/result.h"
#include "crypto/key.h"

namespace sc::crypto {

// Public JWKs with the required members in lexicographic order (RFC 7638 3.2),
// so that their text is also the thumbprint input.
std::string rsaJwk(const std::string& modulus, const std::string& exponent);
std::string ecJwk(const std::string& curve, const std::string& x, const std::string& y);
std::string jwkThumbprint(const std::string& jwk);

class Signer {
 public:
  virtual ~Signer() = default;
  virtual std::string alg() const = 0;         // ES256, ES384, RS256
  virtual std::string jwk() const = 0;         // public JWK, RFC 7638 member order
  virtual std::string thumbprint() const = 0;  // base64url(SHA-256(jwk)), RFC 7638
  virtual Result<std::string> sign(const std::string& data) const = 0;  // JWS signature bytes
};

class KeySigner final : public Signer {
 public:
  static Result<KeySigner> create(PrivateKey key);
  std::string alg() const override { return alg_; }
  std::string jwk() const override { return jwk_; }
  std::string thumbprint() const override;
  Result<std::string> sign(const std::string& data) const override;

 private:
  KeySigner(PrivateKey key, std::string alg, std::string jwk)
      : key_(std::move(key)), alg_(std::move(alg)), jwk_(std::move(jwk)) {}
  PrivateKey key_;
  std::string alg_;
  std::string jwk_;
};

}  // namespace sc::crypto
