#include "sources/user_source.h"

namespace sc::sources {
namespace {

UserVerdict refuse(std::string reason) { return UserVerdict{UserVerdict::Kind::Refuse, std::move(reason), "", {}}; }

const std::string* find(const std::map<std::string, std::string>& files, const char* name) {
  auto it = files.find(name);
  return it == files.end() ? nullptr : &it->second;
}

// The chain from chain.pem if dropped, else what followed the leaf in the
// dropped cert file, else the current chain if it links to the new leaf.
Result<std::vector<crypto::Certificate>> chooseChain(const std::map<std::string, std::string>& dropped,
                                                     const std::vector<crypto::Certificate>& afterLeaf,
                                                     const std::optional<store::CertFiles>& current,
                                                     const crypto::Certificate& leaf) {
  auto withoutLeaf = [&](std::vector<crypto::Certificate> certs) {
    std::erase_if(certs, [&](const crypto::Certificate& c) { return c.sameAs(leaf); });
    return certs;
  };
  if (const std::string* chain = find(dropped, "chain.pem")) {
    auto certs = crypto::Certificate::parseAll(*chain);
    if (!certs) return wrap("chain.pem", certs.error());
    return withoutLeaf(*certs);
  }
  if (!afterLeaf.empty()) return afterLeaf;
  if (current) {
    auto certs = crypto::Certificate::parseAll(current->chain);
    if (certs) {
      auto chain = withoutLeaf(*certs);
      if (!chain.empty() && leaf.issuedBy(chain.front())) return chain;
    }
  }
  return std::vector<crypto::Certificate>{};
}

}  // namespace

UserVerdict judgeUserFiles(const std::map<std::string, std::string>& dropped,
                           const std::optional<store::CertFiles>& current, const std::vector<std::string>& names,
                           TimePoint now) {
  const std::string* keyPem = find(dropped, "privkey.pem");
  bool keyDropped = keyPem != nullptr;
  if (!keyPem && current) keyPem = &current->privkey;
  if (!keyPem) return refuse("privkey.pem is missing");

  const char* certName = find(dropped, "cert.pem") ? "cert.pem" : find(dropped, "fullchain.pem") ? "fullchain.pem" : nullptr;
  bool certDropped = certName != nullptr;
  const std::string* certPem = certName ? find(dropped, certName) : current ? &current->cert : nullptr;
  if (!certPem) return refuse("cert.pem is missing");
  if (!certName) certName = "cert.pem";

  auto key = crypto::PrivateKey::fromPem(*keyPem);
  if (!key) return refuse("privkey.pem: " + key.error().message);
  auto certs = crypto::Certificate::parseAll(*certPem);
  if (!certs) return refuse(std::string(certName) + ": " + certs.error().message);
  crypto::Certificate leaf = (*certs)[0];
  std::vector<crypto::Certificate> afterLeaf(certs->begin() + 1, certs->end());
  auto chain = chooseChain(dropped, afterLeaf, current, leaf);
  if (!chain) return refuse(chain.error().message);

  ParsedSet set{std::move(*key), leaf, std::move(*chain)};
  std::string why = unusableReason(set, names, now);
  if (!why.empty()) {
    bool onlyHalf = keyDropped != certDropped;
    if (onlyHalf && !set.leaf.matches(set.key)) {
      std::string missing = keyDropped ? "cert.pem" : "privkey.pem";
      return UserVerdict{UserVerdict::Kind::Incomplete,
                         "the dropped " + std::string(keyDropped ? "privkey.pem" : certName) +
                             " does not match the " + missing + " in place",
                         missing, {}};
    }
    return refuse(why);
  }
  UserVerdict ok;
  ok.kind = UserVerdict::Kind::Accept;
  store::CertFiles files = assembleFiles(set.key, set.leaf, set.chain);
  files.privkey = *keyPem;  // the user's key bytes as given
  ok.set = CertSet{std::move(files), std::move(set)};
  return ok;
}

}  // namespace sc::sources
