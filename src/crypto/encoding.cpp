#include "crypto/encoding.h"

#include <openssl/evp.h>

#include <iterator>
#include <sstream>

#include <Poco/Base64Decoder.h>
#include <Poco/Base64Encoder.h>
#include <Poco/Exception.h>

#include "crypto/key.h"

namespace sc::crypto {

namespace {

std::string encode(const std::string& bytes, int options) {
  std::ostringstream out;
  Poco::Base64Encoder enc(out, options);
  enc.rdbuf()->setLineLength(0);
  enc << bytes;
  enc.close();
  return out.str();
}

Result<std::string> decode(const std::string& text, int options, const char* what) {
  std::istringstream in(text);
  Poco::Base64Decoder dec(in, options);
  std::string out;
  try {
    out.assign(std::istreambuf_iterator<char>(dec), std::istreambuf_iterator<char>());
  } catch (const Poco::Exception& e) {
    return fail(std::string("not ") + what + ": " + e.displayText());
  }
  return out;
}

constexpr int kUrl = Poco::BASE64_URL_ENCODING | Poco::BASE64_NO_PADDING;

}  // namespace

std::string base64url(const std::string& bytes) { return encode(bytes, kUrl); }
Result<std::string> base64urlDecode(const std::string& text) { return decode(text, kUrl, "base64url"); }
std::string base64(const std::string& bytes) { return encode(bytes, 0); }
Result<std::string> base64Decode(const std::string& text) { return decode(text, 0, "base64"); }

std::string hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(2 * bytes.size());
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::string sha256(const std::string& bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(md), len);
}

Result<std::string> hmacSha256(const std::string& key, const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  size_t len = 0;
  if (!EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.data(), key.size(),
                 reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, sizeof out, &len))
    return fail("HMAC-SHA256: " + opensslError());
  return std::string(reinterpret_cast<char*>(out), len);
}

}  // namespace sc::crypto
