#pragma once
// How a lineage proves control of its names to an ACME CA (RFC 8555 8).
#include <optional>
#include <string>

namespace sc {

enum class ChallengeType { Http01, DnsPersist01, Dns01 };

inline std::optional<ChallengeType> parseChallengeType(const std::string& text) {
  if (text == "http-01") return ChallengeType::Http01;
  if (text == "dns-persist-01") return ChallengeType::DnsPersist01;
  if (text == "dns-01") return ChallengeType::Dns01;
  return std::nullopt;
}

inline const char* challengeTypeName(ChallengeType t) {
  switch (t) {
    case ChallengeType::Http01: return "http-01";
    case ChallengeType::DnsPersist01: return "dns-persist-01";
    case ChallengeType::Dns01: return "dns-01";
  }
  return "?";
}

inline bool isDnsChallenge(ChallengeType t) { return t != ChallengeType::Http01; }

}  // namespace sc
