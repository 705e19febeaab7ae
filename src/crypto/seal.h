#pragma once
// Authenticated encryption of what sidecert keeps where others can read it (a
// swarm config): AES-256-GCM under a 32-byte key, with a fresh random nonce, and
// associated data that binds the box to what it claims to be, so that a box
// moved under another name does not open.
#include <string>

#include "core/result.h"

namespace sc::crypto {

inline constexpr std::size_t kSealKeyBytes = 32;

Result<std::string> randomBytes(std::size_t n);
// "sc1" | nonce (12) | ciphertext | tag (16)
Result<std::string> seal(const std::string& key, const std::string& plain, const std::string& associated);
// Fails on a wrong key, a changed byte, other associated data, or a short box.
Result<std::string> unseal(const std::string& key, const std::string& box, const std::string& associated);

}  // namespace sc::crypto
