#include "sources/self_signed_source.h"

#include "crypto/self_sign.h"
#include "sources/cert_set.h"

namespace sc::sources {

Result<Obtained> SelfSignedSource::obtain(const Request& request, TimePoint now) {
  auto key = crypto::PrivateKey::generate(request.keyType);
  if (!key) return std::unexpected(key.error());
  auto cert = crypto::selfSign(*key, request.names, now, kLifetime);
  if (!cert) return std::unexpected(cert.error());
  return Obtained{assembleFiles(*key, *cert, {}), cert->serialHex(), cert->issuer(), cert->notAfter()};
}

}  // namespace sc::sources
