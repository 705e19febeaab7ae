#pragma once
// The durable home of a lineage's sets on a swarm: each generation is a secret
// for each file that holds the key (privkey.pem, combined.pem), a config for
// each public one (cert.pem, chain.pem, fullchain.pem), and last a config with
// the whole set sealed (crypto/seal.h) under a key only sidecert's tasks get:
// secrets cannot be read back through the API, and a sidecert that starts on
// another node must find what is live. The sealed box's associated data names
// the scope, the lineage, the generation and the certificate's fingerprint, so
// a box put under other labels does not open.
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "store/cert_files.h"
#include "swarm/api.h"
#include "swarm/spec_edit.h"

namespace sc::swarm {

struct StoredSet {
  int generation = 0;
  store::Source source = store::Source::SelfSigned;
  std::string fingerprint;  // hex SHA-256 of cert.pem
  store::CertFiles files;
};

struct Generation {
  int number = 0;
  bool created = false;  // false: the swarm held this set already
  std::vector<StoredObject> files;  // one per published file, labels set (role = the file's name)
};

struct AccountCopy {
  std::string key;  // PEM
  std::string url;
};

// Hex SHA-256 of a certificate's PEM text: what tells two sets apart.
std::string fingerprintOf(const std::string& certPem);

class SetStore {
 public:
  SetStore(SwarmApi& api, std::string scope, std::string sealKey);
  const std::string& scope() const { return scope_; }
  // The newest generation whose sealed box opens; boxes that do not open are
  // skipped with a warning naming them.
  Result<std::optional<StoredSet>> newest(const std::string& lineage);
  // The generation that holds these files: found, or written as the next one.
  Result<Generation> put(const std::string& lineage, const store::CertFiles& files, store::Source source,
                         TimePoint notAfter);
  // Removes what obsolete() names; each failure is logged and left for next time.
  void tidy(const std::string& lineage, int newestGeneration);
  Result<std::optional<AccountCopy>> account(const std::string& caUrl);
  Status putAccount(const std::string& caUrl, const AccountCopy& copy);

 private:
  std::map<std::string, std::string> lineageLabels(const std::string& lineage) const;
  std::string boxContext(const std::string& lineage, int generation, const std::string& fingerprint) const;
  std::string accountContext(const std::string& caUrl) const;
  Result<StoredSet> open(const std::string& lineage, const StoredObject& box) const;
  SwarmApi& api_;
  std::string scope_;
  std::string sealKey_;
};

}  // namespace sc::swarm
