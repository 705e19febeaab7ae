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

// Key, leaf and intermediates in one file, as HAProxy's `crt` reads it: written in
// every set beside the four, from them. A reader that opens one file can never
// see a key beside the wrong certificate.
inline constexpr const char* kCombinedFile = "combined.pem";
// What a published set holds: the four files, then the combined one.
inline constexpr std::array<const char*, 5> kPublishedFiles = {"privkey.pem", "cert.pem", "chain.pem", "fullchain.pem",
                                                               kCombinedFile};
inline std::string combinedOf(const CertFiles& f) { return f.privkey + f.fullchain; }
// The key's bytes are in these: they get the key's mode and group.
inline bool holdsKey(const std::string& file) { return file == "privkey.pem" || file == kCombinedFile; }

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
