#pragma once
#include <array>
#include <optional>
#include <string>

namespace sc::store {

// Where a set came from, in the contract's order of preference.
enum class Source { User, Acme, SelfSigned };

inline const char* sourceName(Source s) {
  switch (s) {
    case Source::User: return "user";
    case Source::Acme: return "acme";
    case Source::SelfSigned: return "self-signed";
  }
  return "?";
}

inline std::optional<Source> parseSource(const std::string& s) {
  if (s == "user") return Source::User;
  if (s == "acme") return Source::Acme;
  if (s == "self-signed") return Source::SelfSigned;
  return std::nullopt;
}

// The four files of certbot's layout, as PEM text.
struct CertFiles {
  std::string privkey;
  std::string cert;       // the leaf
  std::string chain;      // intermediates; for a self-signed set, the leaf itself
  std::string fullchain;  // leaf + intermediates
};

inline constexpr std::array<const char*, 4> kSetFiles = {"privkey.pem", "cert.pem", "chain.pem", "fullchain.pem"};

inline std::string& fileOf(CertFiles& f, const std::string& name) {
  if (name == "privkey.pem") return f.privkey;
  if (name == "cert.pem") return f.cert;
  if (name == "chain.pem") return f.chain;
  return f.fullchain;
}

inline const std::string& fileOf(const CertFiles& f, const std::string& name) {
  return fileOf(const_cast<CertFiles&>(f), name);
}

}  // namespace sc::store
