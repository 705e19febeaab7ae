#include "sources/cert_set.h"

#include "core/time_format.h"

namespace sc::sources {

std::string joinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ",") + n;
  return out;
}

store::CertFiles assembleFiles(const crypto::PrivateKey& key, const crypto::Certificate& leaf,
                               const std::vector<crypto::Certificate>& chain) {
  store::CertFiles files;
  files.privkey = key.toPem();
  files.cert = leaf.toPem();
  for (const auto& c : chain) files.chain += c.toPem();
  files.fullchain = files.cert + files.chain;
  if (chain.empty()) files.chain = files.cert;
  return files;
}

Result<CertSet> certSetOf(store::CertFiles files) {
  auto parsed = parseFiles(files);
  if (!parsed) return std::unexpected(parsed.error());
  return CertSet{std::move(files), std::move(*parsed)};
}

Result<CertSet> certSetFrom(const crypto::PrivateKey& key, const crypto::Certificate& leaf,
                            const std::vector<crypto::Certificate>& chain) {
  auto shared = key.share();
  if (!shared) return std::unexpected(shared.error());
  ParsedSet set{std::move(*shared), leaf, {}};
  for (const auto& c : chain)
    if (!c.sameAs(leaf)) set.chain.push_back(c);  // as parseFiles reads chain.pem
  // Not read back, so an encoding that failed must not become an empty file.
  store::CertFiles files = assembleFiles(key, leaf, chain);
  if (files.privkey.empty()) return fail("encode the private key as PEM: " + crypto::opensslError());
  if (files.cert.empty()) return fail("encode the certificate as PEM: " + crypto::opensslError());
  std::size_t blocks = 0;  // one per certificate of the chain: none lost to a failed encoding
  for (auto at = files.chain.find("-----BEGIN CERTIFICATE-----"); at != std::string::npos;
       at = files.chain.find("-----BEGIN CERTIFICATE-----", at + 1))
    ++blocks;
  if (!chain.empty() && blocks != chain.size()) return fail("encode the chain as PEM: " + crypto::opensslError());
  return CertSet{std::move(files), std::move(set)};
}

Result<ParsedSet> parseFiles(const store::CertFiles& files) {
  auto key = crypto::PrivateKey::fromPem(files.privkey);
  if (!key) return wrap("privkey.pem", key.error());
  auto certs = crypto::Certificate::parseAll(files.cert);
  if (!certs) return wrap("cert.pem", certs.error());
  ParsedSet set{std::move(*key), (*certs)[0], {}};
  auto chain = crypto::Certificate::parseAll(files.chain);
  if (chain)
    for (auto& c : *chain)
      if (!c.sameAs(set.leaf)) set.chain.push_back(c);
  return set;
}

std::string unusableReason(const ParsedSet& set, const std::vector<std::string>& names, TimePoint now,
                           std::chrono::seconds skew) {
  if (!set.leaf.matches(set.key)) return "privkey.pem does not match the certificate in cert.pem";
  if (now + skew < set.leaf.notBefore()) return "the certificate is not valid before " + formatTime(set.leaf.notBefore());
  if (now >= set.leaf.notAfter()) return "the certificate expired on " + formatTime(set.leaf.notAfter());
  const crypto::Certificate* child = &set.leaf;
  for (const auto& issuer : set.chain) {
    if (!child->issuedBy(issuer))
      return "chain.pem does not link to the certificate: " + child->subject() + " is issued by " + child->issuer() +
             ", but the chain has " + issuer.subject();
    child = &issuer;
  }
  std::vector<std::string> uncovered;
  for (const auto& n : names)
    if (!set.leaf.covers(n)) uncovered.push_back(n);
  if (!uncovered.empty())
    return "the certificate does not cover " + joinNames(uncovered) + " (it is for " + joinNames(set.leaf.names()) + ")";
  return "";
}

}  // namespace sc::sources
