#pragma once
#include <optional>
#include <string>

namespace sc {

enum class KeyType { Ec256, Ec384, Rsa2048, Rsa3072, Rsa4096 };

std::optional<KeyType> parseKeyType(const std::string& text);
const char* keyTypeName(KeyType t);

inline std::optional<KeyType> parseKeyType(const std::string& text) {
  if (text == "ec256") return KeyType::Ec256;
  if (text == "ec384") return KeyType::Ec384;
  if (text == "rsa2048") return KeyType::Rsa2048;
  if (text == "rsa3072") return KeyType::Rsa3072;
  if (text == "rsa4096") return KeyType::Rsa4096;
  return std::nullopt;
}

inline const char* keyTypeName(KeyType t) {
  switch (t) {
    case KeyType::Ec256: return "ec256";
    case KeyType::Ec384: return "ec384";
    case KeyType::Rsa2048: return "rsa2048";
    case KeyType::Rsa3072: return "rsa3072";
    case KeyType::Rsa4096: return "rsa4096";
  }
  return "?";
}

}  // namespace sc
