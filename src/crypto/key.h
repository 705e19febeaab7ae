#pragma once
#include <memory>
#include <string>

#include "core/key_type.h"
#include "core/result.h"

struct evp_pkey_st;

namespace sc::crypto {

// A private key. Only crypto/ sees OpenSSL; everyone else holds this.
class PrivateKey {
 public:
  static Result<PrivateKey> generate(KeyType type);
  // Refuses encrypted keys with that reason: nobody is there to type a passphrase.
  static Result<PrivateKey> fromPem(const std::string& pem);

  std::string toPem() const;  // empty if OpenSSL could not encode it
  // A second owner of the same key: read-only use (signing, matching) is safe from
  // several threads, and parsing the PEM again costs OpenSSL 3's decoders.
  Result<PrivateKey> share() const;
  std::string describe() const;  // "EC P-256", "RSA 2048"
  bool isRsa() const;
  evp_pkey_st* raw() const { return key_.get(); }

 private:
  struct Free {
    void operator()(evp_pkey_st* k) const;
  };
  explicit PrivateKey(evp_pkey_st* k) : key_(k) {}
  std::unique_ptr<evp_pkey_st, Free> key_;
};

// The last OpenSSL error as text, and the queue cleared.
std::string opensslError();

}  // namespace sc::crypto
