#include "sources/acme_source.h"

#include <algorithm>
#include <map>
#include <mutex>

#include "core/domain.h"
#include "crypto/csr.h"
#include "crypto/encoding.h"
#include "log/log.h"
#include "renew/ari.h"
#include "sources/cert_set.h"

namespace sc::sources {
namespace {

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out.empty() ? "none" : out;
}

// The solver's cleanUp() follows its present(), whatever the outcome, but for a
// present() that is not ready yet: what it placed stays for the next pass.
class Presented {
 public:
  explicit Presented(acme::Solver& s) : solver_(s) {}
  ~Presented() {
    if (!kept_) solver_.cleanUp();
  }
  void keep() { kept_ = true; }
  Presented(const Presented&) = delete;
  Presented& operator=(const Presented&) = delete;

 private:
  acme::Solver& solver_;
  bool kept_ = false;
};

KeyType accountKeyFor(KeyType certKey) {
  // The account signs a handful of requests: ES256 unless RSA was asked for.
  if (certKey == KeyType::Ec384) return KeyType::Ec384;
  return certKey == KeyType::Ec256 ? KeyType::Ec256 : KeyType::Rsa2048;
}

// An account key parsed from its PEM once per process, and shared by every
// lineage's client of that account: with 1,000 lineages, parsing it in each first
// pass (OpenSSL 3's decoders) took 4 % of the CPU of issuing them all. Keyed by the
// text itself, so a key replaced in the state folder is parsed anew.
Result<crypto::PrivateKey> parsedAccountKey(const std::string& pem) {
  static std::mutex guard;
  static std::map<std::string, crypto::PrivateKey> parsed;
  constexpr std::size_t kKeptKeys = 16;  // one per CA account; more only if keys are replaced
  std::lock_guard lock(guard);
  if (auto it = parsed.find(pem); it != parsed.end()) return it->second.share();
  auto key = crypto::PrivateKey::fromPem(pem);
  if (!key) return std::unexpected(key.error());
  if (parsed.size() >= kKeptKeys) parsed.clear();
  auto shared = key->share();
  if (shared) parsed.emplace(pem, std::move(*shared));
  return key;
}

}  // namespace

AcmeSource::AcmeSource(AcmeOptions options, acme::HttpTransport& http, acme::Sleeper& sleeper, acme::Solver& solver,
                       store::AccountStore& accounts)
    : options_(std::move(options)), http_(http), sleeper_(sleeper), solver_(solver), accounts_(accounts) {}

Result<std::unique_ptr<crypto::KeySigner>> AcmeSource::accountKey() {
  std::optional<crypto::PrivateKey> key;
  if (auto pem = accounts_.key(options_.directoryUrl)) {
    auto parsed = parsedAccountKey(*pem);
    if (!parsed) return wrap("the ACME account key in the state folder's accounts/", parsed.error());
    key = std::move(*parsed);
  } else {
    auto made = crypto::PrivateKey::generate(accountKeyFor(options_.accountKeyType));
    if (!made) return std::unexpected(made.error());
    if (auto ok = accounts_.saveKey(options_.directoryUrl, made->toPem()); !ok) return std::unexpected(ok.error());
    key = std::move(*made);
  }
  auto signer = crypto::KeySigner::create(std::move(*key));
  if (!signer) return std::unexpected(signer.error());
  return std::make_unique<crypto::KeySigner>(std::move(*signer));
}

Result<acme::Client*> AcmeSource::connect() {
  if (client_) return client_.get();
  std::lock_guard hold(accounts_.guard());
  auto signer = accountKey();
  if (!signer) return std::unexpected(signer.error());
  signer_ = std::move(*signer);
  auto client = std::make_unique<acme::Client>(http_, *signer_, options_.directoryUrl, sleeper_);
  auto dir = client->directory();
  if (!dir) return std::unexpected(dir.error());
  if (!options_.profile.empty() &&
      std::find(dir->profiles.begin(), dir->profiles.end(), options_.profile) == dir->profiles.end()) {
    return fail("the CA at " + options_.directoryUrl + " does not offer the profile '" + options_.profile +
                "' (it offers: " + joined(dir->profiles) +
                "): set SIDECERT_ACME_PROFILE, or acme_profile of this certificate, to one of those, or leave it unset");
  }
  auto known = accounts_.accountUrl(options_.directoryUrl);
  auto kid = client->account(options_.account, known);
  if (!kid) return std::unexpected(kid.error());
  if (!known) {
    if (auto ok = accounts_.saveAccountUrl(options_.directoryUrl, *kid); !ok) return std::unexpected(ok.error());
    log::info("account_ready", {{"ca", options_.directoryUrl}, {"account", *kid}});
  }
  client_ = std::move(client);
  return client_.get();
}

// The challenges of an order's authorizations that are not valid yet, and those
// authorizations' URLs.
Result<AcmeSource::Presenting> AcmeSource::challengesOf(acme::Client& client, const acme::Order& order) {
  Presenting out{order, {}, {}};
  auto& [o, tasks, pending] = out;
  for (const auto& url : order.authorizations) {
    auto authz = client.authorization(url);
    if (!authz) return std::unexpected(authz.error());
    if (authz->status == acme::AuthorizationStatus::Valid) {
      log::debug("authorization_reused", {{"identifier", authz->identifier}});
      continue;
    }
    auto ch = std::find_if(authz->challenges.begin(), authz->challenges.end(),
                           [&](const acme::Challenge& c) { return c.type == solver_.type(); });
    if (ch == authz->challenges.end())
      return failAs(ErrorKind::Rejected, std::string("the CA offers no ") + solver_.type() + " challenge for " +
                                             (authz->wildcard ? "*." : "") + authz->identifier);
    std::string keyAuth = ch->token.empty() ? "" : ch->token + "." + signer_->thumbprint();
    // A challenge already answered (by a run a crash cut short) is only waited for.
    tasks.push_back({authz->identifier, authz->wildcard, *ch, keyAuth, ch->status != acme::ChallengeStatus::Pending, client.accountUrl()});
    pending.push_back(url);
  }
  return out;
}

Status AcmeSource::authorize(acme::Client& client, const acme::Order& order) {
  // What the last pass presented and was not ready yet is presented again as it
  // was: the CA is not asked for the authorizations at every look.
  auto challenges = awaiting_ && awaiting_->order.url == order.url ? Result<Presenting>(*awaiting_)
                                                                    : challengesOf(client, order);
  awaiting_.reset();
  if (!challenges) return std::unexpected(challenges.error());
  const auto& [o, tasks, pending] = *challenges;
  Presented presented(solver_);
  if (!tasks.empty())
    if (auto ok = solver_.present(tasks); !ok) {
      if (ok.error().is(ErrorKind::NotReady)) {
        presented.keep();
        awaiting_ = *challenges;
      }
      return ok;
    }
  for (const auto& t : tasks)
    if (!t.answered)
      if (auto ok = client.acceptChallenge(t.challenge.url); !ok) return ok;
  for (const auto& url : pending) {
    auto done = client.waitForAuthorization(url);
    if (!done) return std::unexpected(done.error());
    if (done->status != acme::AuthorizationStatus::Valid)
      return failAs(ErrorKind::Rejected, "validation of " + done->identifier + " failed: " +
                                             (done->error ? done->error->describe() : std::string("authorization ") + acme::statusName(done->status)));
  }
  return {};
}

// `replaces` is optional (RFC 9773 5): an order the CA refused while it named one
// is placed again at once without it, whatever the refusal said (already
// replaced, another account's certificate, or a CA that cannot find it: Pebble
// misses serials with a leading zero byte). No order exists after a refusal, so
// the one the budget admitted is still the one placed. Not after a rate limit,
// which the second order would meet too, nor after no answer, which may have
// made an order, nor after a reply that was no refusal (Protocol: a 201 whose
// order URL was unusable may still have made one).
namespace {
bool mayPlaceWithoutReplaces(const Error& e) {
  return e.is(ErrorKind::Problem) && !e.isProblem(ProblemType::RateLimited);
}

// A CA that refuses an order's IP addresses (RFC 8738) most often issues them only
// under another profile (Let's Encrypt: shortlived): the error says which setting.
Error explainIpRefusal(Error e, const std::vector<std::string>& names, const std::string& profile,
                       const std::vector<std::string>& offered) {
  bool hasIp = std::any_of(names.begin(), names.end(), [](const std::string& n) { return isIpAddress(n); });
  if (!hasIp || !(e.isProblem(ProblemType::RejectedIdentifier) || e.isProblem(ProblemType::UnsupportedIdentifier) ||
                  e.isProblem(ProblemType::InvalidProfile)))
    return e;
  e.message += "; the CA refuses IP addresses under " + (profile.empty() ? "its default profile" : "the profile '" + profile + "'") +
               ": set SIDECERT_ACME_PROFILE (or acme_profile of this certificate) to one that issues for them "
               "(Let's Encrypt: shortlived; this CA offers: " + joined(offered) + ")";
  return e;
}
}  // namespace

Result<acme::Order> AcmeSource::placeOrder(const Request& request) {
  auto client = connect();
  if (!client) return std::unexpected(client.error());
  acme::Client& c = **client;
  std::string replaces;
  if (request.current)
    if (auto certs = crypto::Certificate::parseAll(request.current->cert); certs && c.directory()->renewalInfo.size())
      replaces = certs->front().ariCertId();
  if (!request.journal) return fail("no order journal: refusing to place an order nobody counts");
  if (auto admitted = request.journal->beforeOrder(); !admitted) return std::unexpected(admitted.error());
  auto order = c.newOrder(request.names, replaces, options_.profile);
  if (!order && !replaces.empty() && mayPlaceWithoutReplaces(order.error())) {
    log::info("order_without_replaces", {{"name", request.lineage}, {"ca", options_.directoryUrl}, {"reason", order.error().message}});
    order = c.newOrder(request.names, "", options_.profile);
  }
  if (!order) return std::unexpected(explainIpRefusal(order.error(), request.names, options_.profile, c.directory()->profiles));
  return order;
}

// An order a crash left open, fetched: resumed while it can still lead to a
// certificate for these names. None when it cannot (the CA ended or forgot it);
// an error when the CA could not be asked (kept for the next attempt).
Result<std::optional<acme::Order>> AcmeSource::resumable(const Request& request) {
  if (!request.resume || request.resume->ca != id() || request.resume->names != request.names)
    return std::optional<acme::Order>();
  auto client = connect();
  if (!client) return std::unexpected(client.error());
  if (awaiting_ && awaiting_->order.url == request.resume->url) return std::optional<acme::Order>(awaiting_->order);
  auto order = (*client)->fetchOrder(request.resume->url, request.names.size());
  if (!order && !order.error().is(ErrorKind::Problem) && !order.error().is(ErrorKind::Protocol))
    return std::unexpected(order.error());
  if (!order || order->status == acme::OrderStatus::Invalid) {
    log::info("order_not_resumed", {{"name", request.lineage}, {"ca", options_.directoryUrl},
                                    {"order", request.resume->url},
                                    {"reason", order ? "the order is invalid" : order.error().message}});
    return std::optional<acme::Order>();
  }
  log::info("order_resumed", {{"name", request.lineage}, {"ca", options_.directoryUrl}, {"order", order->url}, {"status", acme::statusName(order->status)}});
  return std::optional<acme::Order>(*order);
}

Result<CertSet> AcmeSource::obtain(const Request& request, TimePoint) {
  // A client kept from an earlier pass counts on; a new one starts at zero.
  int before = client_ ? client_->requestCount() : 0, badNoncesBefore = client_ ? client_->badNonceCount() : 0;
  std::optional<crypto::PrivateKey> key;
  auto order = [&]() -> Result<acme::Order> {
    auto open = resumable(request);
    if (!open) return std::unexpected(open.error());
    if (*open)
      if (auto k = crypto::PrivateKey::fromPem(request.resume->keyPem)) {
        key = std::move(*k);
        return **open;
      }
    if (request.resume && request.journal) request.journal->orderEnded();
    solver_.tidyUp();
    if (auto ready = readyToOrder(request); !ready) return std::unexpected(ready.error());
    auto made = crypto::PrivateKey::generate(request.keyType);
    if (!made) return std::unexpected(made.error());
    key = std::move(*made);
    auto placed = placeOrder(request);
    if (!placed && placed.error().isProblem(ProblemType::AccountDoesNotExist)) {
      // The CA lost the account (a test CA restarted, one deactivated elsewhere).
      // Same key, new account: a CA that still knew the key would have said so.
      log::warn("account_missing", {{"name", request.lineage}, {"ca", options_.directoryUrl}, {"error", placed.error().message}});
      {
        std::lock_guard hold(accounts_.guard());  // other lineages may be connecting
        if (auto ok = accounts_.forgetAccountUrl(options_.directoryUrl); !ok) return std::unexpected(ok.error());
      }
      client_.reset();
      before = badNoncesBefore = 0;
      placed = placeOrder(request);
    }
    if (placed) {
      request.journal->orderPlaced({id(), placed->url, request.names, key->toPem()});
      log::Fields fields{{"name", request.lineage}, {"ca", options_.directoryUrl}, {"names", joinNames(request.names)}, {"order", placed->url}};
      if (!placed->profile.empty()) fields.push_back({"profile", placed->profile});
      if (!placed->replaces.empty()) fields.push_back({"replaces", placed->replaces});
      log::info("order_placed", fields);
    }
    return placed;
  }();
  if (!order) return std::unexpected(order.error());
  auto obtained = complete(*client_, *order, *key, request);
  // A dead order, or one that led to a certificate, is not resumed; one cut short
  // by the network or a stop is, on the next attempt.
  bool dead = obtained || obtained.error().is(ErrorKind::Protocol) || obtained.error().is(ErrorKind::Rejected) ||
              obtained.error().is(ErrorKind::Unusable);
  if (dead && request.journal) request.journal->orderEnded();
  if (obtained)
    log::debug("acme_requests", {{"name", request.lineage}, {"ca", options_.directoryUrl},
                                 {"requests", client_->requestCount() - before},
                                 {"bad_nonce_retries", client_->badNonceCount() - badNoncesBefore}});
  return obtained;
}

Result<CertSet> AcmeSource::complete(acme::Client& c, const acme::Order& order, const crypto::PrivateKey& key,
                                      const Request& request) {
  Result<acme::Order> valid = order;
  switch (order.status) {
    case acme::OrderStatus::Pending:
      if (auto ok = authorize(c, order); !ok) return std::unexpected(ok.error());
      [[fallthrough]];
    case acme::OrderStatus::Ready: {
      auto csr = crypto::makeCsr(key, request.names);
      if (!csr) return std::unexpected(csr.error());
      valid = c.finalize(order, *csr);
      break;
    }
    case acme::OrderStatus::Processing:
      valid = c.waitForOrder(order, {acme::OrderStatus::Valid});
      break;
    case acme::OrderStatus::Valid:
    case acme::OrderStatus::Invalid:  // refused below with the CA's reason; nothing to finalize
      break;
  }
  if (!valid) return std::unexpected(valid.error());
  if (valid->status != acme::OrderStatus::Valid)
    return failAs(ErrorKind::Rejected, std::string("the order became ") + acme::statusName(valid->status) +
                                           (valid->error ? ": " + valid->error->describe() : std::string()));
  auto pem = c.downloadCertificate(valid->certificate, options_.preferredChain);
  if (!pem) return std::unexpected(pem.error());
  auto certs = crypto::Certificate::parseAll(*pem);
  if (!certs) return failAs(ErrorKind::Protocol, "the certificate from " + options_.directoryUrl + ": " + certs.error().message);
  if (!certs->front().matches(key)) return failAs(ErrorKind::Unusable, "the CA returned a certificate for another key");
  std::vector<crypto::Certificate> chain(certs->begin() + 1, certs->end());
  auto set = certSetFrom(key, certs->front(), chain);
  if (!set) return failAs(ErrorKind::Protocol, "the certificate from " + options_.directoryUrl + ": " + set.error().message);
  return set;
}

std::optional<RenewalHint> AcmeSource::renewalHint(const store::CertFiles& current, TimePoint now,
                                                   std::chrono::milliseconds timeLimit) {
  acme::DeadlineScope bounded(http_, timeLimit);
  auto client = connect();
  if (!client || (*client)->directory()->renewalInfo.empty()) return std::nullopt;
  auto certs = crypto::Certificate::parseAll(current.cert);
  if (!certs || certs->front().ariCertId().empty()) return std::nullopt;
  auto info = (*client)->renewalInfo(certs->front().ariCertId());
  if (!info) {
    log::debug("renewal_info_failed", {{"ca", options_.directoryUrl}, {"error", info.error().message}});
    return std::nullopt;
  }
  auto digest = crypto::sha256(certs->front().serialHex());
  RenewalHint hint{renew::ariRenewalTime(info->start, info->end, digest), std::nullopt};
  if (info->retryAfter.count() > 0) hint.askAgainAt = now + info->retryAfter;
  return hint;
}

Result<std::pair<std::string, acme::Directory>> AcmeSource::accountAndDirectory() {
  auto client = connect();
  if (!client) return std::unexpected(client.error());
  return std::pair{(*client)->accountUrl(), *(*client)->directory()};
}

Status AcmeSource::readyToOrder(const Request& request) {
  auto account = accountAndDirectory();
  if (!account) return std::unexpected(account.error());
  return solver_.readyToOrder(request.names, account->first, account->second);
}

Status AcmeSource::revoke(const store::CertFiles& current, int reason) {
  auto client = connect();
  if (!client) return std::unexpected(client.error());
  auto certs = crypto::Certificate::parseAll(current.cert);
  if (!certs) return wrap("the live certificate", certs.error());
  return (*client)->revoke(certs->front().der(), reason);
}

}  // namespace sc::sources
