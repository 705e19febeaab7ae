#pragma once
#include <string>

#include "core/result.h"

namespace sc::crypto {

std::string base64url(const std::string& bytes);  // RFC 4648 section 5, no padding
Result<std::string> base64urlDecode(const std::string& text);
std::string base64(const std::string& bytes);  // RFC 4648 section 4, padded, one line
Result<std::string> base64Decode(const std::string& text);
std::string hex(const std::string& bytes);  // lower case, two digits a byte
std::string sha256(const std::string& bytes);
Result<std::string> hmacSha256(const std::string& key, const std::string& data);

}  // namespace sc::crypto
