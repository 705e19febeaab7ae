#include "crypto/seal.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <memory>

#include "crypto/key.h"

namespace sc::crypto {
namespace {

constexpr std::string_view kMagic = "sc1";
constexpr int kNonceBytes = 12;
constexpr int kTagBytes = 16;

using Ctx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

const unsigned char* bytes(const std::string& s) { return reinterpret_cast<const unsigned char*>(s.data()); }
unsigned char* bytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

Status checkKey(const std::string& key) {
  if (key.size() != kSealKeyBytes)
    return fail("a sealing key has " + std::to_string(kSealKeyBytes) + " bytes, this one " + std::to_string(key.size()));
  return {};
}

}  // namespace

Result<std::string> randomBytes(std::size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(bytes(out), static_cast<int>(n)) != 1) return fail("random bytes: " + opensslError());
  return out;
}

Result<std::string> seal(const std::string& key, const std::string& plain, const std::string& associated) {
  if (auto ok = checkKey(key); !ok) return std::unexpected(ok.error());
  auto nonce = randomBytes(kNonceBytes);
  if (!nonce) return std::unexpected(nonce.error());
  Ctx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  if (!ctx) return fail("seal: " + opensslError());
  std::string out(kMagic);
  out += *nonce;
  std::size_t at = out.size();
  out.resize(at + plain.size() + kTagBytes);
  int len = 0, tail = 0;
  if (EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, bytes(key), bytes(*nonce)) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, bytes(associated), static_cast<int>(associated.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), bytes(out) + at, &len, bytes(plain), static_cast<int>(plain.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), bytes(out) + at + len, &tail) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes, bytes(out) + at + len + tail) != 1)
    return fail("seal: " + opensslError());
  return out;
}

Result<std::string> unseal(const std::string& key, const std::string& box, const std::string& associated) {
  if (auto ok = checkKey(key); !ok) return std::unexpected(ok.error());
  const std::size_t head = kMagic.size() + kNonceBytes;
  if (box.size() < head + kTagBytes || box.compare(0, kMagic.size(), kMagic) != 0)
    return fail("not a sealed box of sidecert's");
  std::string nonce = box.substr(kMagic.size(), kNonceBytes);
  std::string tag = box.substr(box.size() - kTagBytes);
  std::string cipher = box.substr(head, box.size() - head - kTagBytes);
  std::string plain(cipher.size(), '\0');
  Ctx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  if (!ctx) return fail("unseal: " + opensslError());
  int len = 0, tail = 0;
  if (EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, bytes(key), bytes(nonce)) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, bytes(associated), static_cast<int>(associated.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), bytes(plain), &len, bytes(cipher), static_cast<int>(cipher.size())) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, bytes(tag)) != 1)
    return fail("unseal: " + opensslError());
  if (EVP_DecryptFinal_ex(ctx.get(), bytes(plain) + len, &tail) != 1)
    return fail("the sealed box does not open: another key, or changed since it was sealed");
  plain.resize(len + tail);
  return plain;
}

}  // namespace sc::crypto
