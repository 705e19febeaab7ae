#pragma once
// Files a user dropped into live/<name>/ (docker cp, one file at a time), judged
// against the configured names. Pure: bytes in, verdict out.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "sources/cert_set.h"
#include "store/cert_files.h"

namespace sc::sources {

struct UserVerdict {
  enum class Kind { Accept, Incomplete, Refuse };
  Kind kind = Kind::Refuse;
  std::string reason;            // Refuse, Incomplete: one sentence a person can act on
  std::string awaited;          // Incomplete: the file that would complete the set
  std::optional<CertSet> set;   // Accept: the set to publish
};

// `dropped` holds the user's files by name; files the user did not drop are taken
// from `current` (our live set), so a renewed cert.pem alone, for the same key,
// is a whole set. A key and a certificate that do not match, when only one of the
// two was dropped, is Incomplete: the other may be on its way.
UserVerdict judgeUserFiles(const std::map<std::string, std::string>& dropped,
                           const std::optional<store::CertFiles>& current, const std::vector<std::string>& names,
                           TimePoint now);

}  // namespace sc::sources
