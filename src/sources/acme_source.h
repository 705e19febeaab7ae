#pragma once
// Certificates from one ACME CA, for one lineage, proven by its challenge's solver.
#include <memory>
#include <string>

#include "acme/client.h"
#include "acme/solver.h"
#include "sources/cert_source.h"
#include "store/account_store.h"

namespace sc::sources {

struct AcmeOptions {
  std::string directoryUrl;
  acme::AccountOptions account;
  std::string profile;         // sent with the order; the CA must advertise it
  std::string preferredChain;  // issuer CN of the top certificate of the chain wanted
  KeyType accountKeyType = KeyType::Ec256;
};

class AcmeSource final : public CertSource {
 public:
  AcmeSource(AcmeOptions options, acme::HttpTransport& http, acme::Sleeper& sleeper, acme::Solver& solver,
             store::AccountStore& accounts);

  store::Source kind() const override { return store::Source::Acme; }
  std::string id() const override { return options_.directoryUrl; }
  Result<CertSet> obtain(const Request& request, TimePoint now) override;
  std::optional<RenewalHint> renewalHint(const store::CertFiles& current, TimePoint now,
                                         std::chrono::milliseconds timeLimit) override;
  Status revoke(const store::CertFiles& current, int reason);
  // The account's URL and the CA's directory, the account created if there is none.
  Result<std::pair<std::string, acme::Directory>> accountAndDirectory();

 private:
  Result<std::unique_ptr<crypto::KeySigner>> accountKey();
  Result<acme::Client*> connect();
  Result<acme::Order> placeOrder(const Request& request);
  Result<std::optional<acme::Order>> resumable(const Request& request);
  Result<CertSet> complete(acme::Client& c, const acme::Order& order, const crypto::PrivateKey& key,
                            const Request& request);
  // An order's challenges to present: the tasks, and the authorizations to wait for.
  struct Presenting {
    acme::Order order;
    std::vector<acme::ChallengeTask> tasks;
    std::vector<std::string> pending;
  };
  Result<Presenting> challengesOf(acme::Client& client, const acme::Order& order);
  Status authorize(acme::Client& client, const acme::Order& order);
  Status readyToOrder(const Request& request);

  AcmeOptions options_;
  acme::HttpTransport& http_;
  acme::Sleeper& sleeper_;
  acme::Solver& solver_;
  store::AccountStore& accounts_;
  std::unique_ptr<crypto::KeySigner> signer_;   // loaded once, kept for renewals
  std::unique_ptr<acme::Client> client_;        // keeps directory and nonce between orders
  // An order whose challenges were presented but not ready (dns-01 records not
  // served everywhere yet): the next pass presents them again, CA not asked.
  std::optional<Presenting> awaiting_;
};

}  // namespace sc::sources
