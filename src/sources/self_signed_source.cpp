#include "sources/self_signed_source.h"

#include "crypto/self_sign.h"
#include "sources/cert_set.h"

namespace sc::sources {

Result<CertSet> SelfSignedSource::obtain(const Request& request, TimePoint now) {
  auto key = crypto::PrivateKey::generate(request.keyType);
  if (!key) return std::unexpected(key.error());
  auto cert = crypto::selfSign(*key, request.names, now, kLifetime);
  if (!cert) return std::unexpected(cert.error());
  return certSetFrom(*key, *cert, {});
}

}  // namespace sc::sources
