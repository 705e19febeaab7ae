#pragma once
#include <string>
#include <vector>

#include "core/clock.h"
#include "crypto/cert.h"
#include "crypto/key.h"
#include "store/cert_files.h"

namespace sc::sources {

// A set as parsed: what the supervisor needs to judge and to log it.
struct ParsedSet {
  crypto::PrivateKey key;
  crypto::Certificate leaf;
  std::vector<crypto::Certificate> chain;
};

// The four files of a key, a leaf and its intermediates. A set with no
// intermediates (self-signed) gets the leaf as chain.pem, so that gateways that
// require a CA file (Express Gateway's `ca:`) still start.
store::CertFiles assembleFiles(const crypto::PrivateKey& key, const crypto::Certificate& leaf,
                               const std::vector<crypto::Certificate>& chain);

Result<ParsedSet> parseFiles(const store::CertFiles& files);

// One certificate set from source to store: its four files as they are written,
// and what they say, parsed once.
struct CertSet {
  store::CertFiles files;
  ParsedSet parsed;
};
Result<CertSet> certSetOf(store::CertFiles files);
// The set of a key and certificates already parsed (the self-signed ones made
// here, a CA's chain parsed on arrival): its files, without reading them back.
Result<CertSet> certSetFrom(const crypto::PrivateKey& key, const crypto::Certificate& leaf,
                            const std::vector<crypto::Certificate>& chain);

// Why this set cannot serve `names` at `now`, or "" when it can. `skew` forgives a
// notBefore slightly ahead of our clock: a CA's clock, or a pass that started
// before a slow order finished.
std::string unusableReason(const ParsedSet& set, const std::vector<std::string>& names, TimePoint now,
                           std::chrono::seconds skew = std::chrono::seconds(0));

// For sets sidecert obtained itself (user certificates get no such allowance).
inline constexpr std::chrono::seconds kIssuedClockSkew{300};

std::string joinNames(const std::vector<std::string>& names);

}  // namespace sc::sources
