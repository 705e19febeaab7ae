#pragma once
// An RFC 8555 client for one CA: directory, nonces, account, orders,
// authorizations, challenges, finalization, download, revocation, and ARI
// (RFC 9773). It signs with a crypto::Signer and never sees a private key.
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "acme/transport.h"
#include "acme/types.h"
#include "crypto/signer.h"

namespace sc::acme {

struct AccountOptions {
  std::string email;
  std::string eabKid;
  std::string eabHmacKey;  // base64url, as CAs hand it out
};

// Bounds on retries, with the reasons for each number.
struct RetryPolicy {
  // Each retry carries the fresh nonce the error came with and costs one round
  // trip. A CA rejecting half of all nonces (Pebble's test knob) exhausts 15
  // retries once in 65,000 requests; 5 failed one issuance in seven.
  int badNonceRetries = 15;
  int transientRetries = 3;  // network errors and 5xx
  std::chrono::milliseconds transientBackoff{250};  // doubled each time
  // A Retry-After up to this long is waited out inside the request; longer ones
  // end the attempt and reach the supervisor's schedule.
  std::chrono::seconds maxInlineWait{10};
  // Polling: start brisk, double, cap; stop after the deadline. An authorization's
  // first pause ends 10 ms after the CA fetched the token; an order the CA is
  // still signing is asked again sooner (Pebble is done in about a millisecond;
  // a CA that needs longer says so with Retry-After, which is followed).
  std::chrono::milliseconds firstPoll{10};
  std::chrono::milliseconds firstOrderPoll{2};
  std::chrono::milliseconds maxPoll{2000};
  std::chrono::seconds pollDeadline{180};
};

class Client {
 public:
  Client(HttpTransport& http, const crypto::Signer& key, std::string directoryUrl, Sleeper& sleeper,
         RetryPolicy policy = {});

  const std::string& directoryUrl() const { return directoryUrl_; }
  Result<Directory> directory();
  // Finds or creates the account for this key; `knownUrl` skips the round trip.
  Result<std::string> account(const AccountOptions& options, const std::optional<std::string>& knownUrl);
  // Refused (ErrorKind::Cancelled) once a stop was requested: no order after SIGTERM.
  Result<Order> newOrder(const std::vector<std::string>& names, const std::string& replaces,
                         const std::string& profile);
  // An order placed earlier (RFC 8555 7.1.3), for `identifiers` names: to resume it.
  Result<Order> fetchOrder(const std::string& url, std::size_t identifiers);
  Result<Authorization> authorization(const std::string& url);
  Status acceptChallenge(const std::string& url);
  Result<Authorization> waitForAuthorization(const std::string& url);
  // pauseFirst: the resource was just seen unsettled (with this Retry-After, or 0).
  Result<Order> waitForOrder(const Order& order, const std::set<OrderStatus>& until,
                             std::optional<std::chrono::seconds> pauseFirst = std::nullopt);
  // Finalizes as soon as the authorizations are valid, without polling the order
  // to "ready" first (one round trip less); a CA that has not moved the order on
  // yet says orderNotReady, and then the order is polled and finalized again.
  Result<Order> finalize(const Order& order, const std::string& csrDer);
  // The PEM chain; with a preferred issuer, the alternate whose top certificate
  // that issuer signed, where one is offered (Link: rel="alternate").
  Result<std::string> downloadCertificate(const std::string& url, const std::string& preferredIssuer);
  Status revoke(const std::string& certDer, int reason);
  Result<RenewalInfo> renewalInfo(const std::string& certId);

  const std::string& accountUrl() const { return kid_; }  // once account() succeeded
  int requestCount() const { return requests_; }
  int badNonceCount() const { return badNonces_; }

 private:
  // Whether a request that failed in transit, or got a 5xx, is sent again. A newOrder
  // is not: the CA may have created the order before the failure, and every resend
  // would be an order the budget did not count.
  enum class Resend { OnTransientFailure, Never };
  Result<HttpResponse> signedPost(const std::string& url, const std::string& payload, bool withJwk,
                                  const std::string& accept = "", Resend resend = Resend::OnTransientFailure);
  Result<HttpResponse> send(const std::string& url, const std::string& payload, bool withJwk, const std::string& accept,
                            Resend resend);
  Result<std::string> freshNonce();
  Result<std::string> jws(const std::string& url, const std::string& payload, bool withJwk, const std::string& nonce);
  Result<std::string> eabBinding(const AccountOptions& options, const std::string& url);
  void keepNonce(const HttpResponse& r);
  template <class T>
  Result<T> pollUntilSettled(const std::string& url, const std::function<Result<T>(const std::string&)>& parse,
                             const std::function<bool(const T&)>& settled,
                             std::optional<std::chrono::seconds> pauseFirst, std::chrono::milliseconds firstDelay);
  Status cancelled(const std::string& what) const;
  Result<HttpResponse> transient(const std::function<Result<HttpResponse>()>& call, const std::string& what,
                                 Resend resend = Resend::OnTransientFailure);

  HttpTransport& http_;
  const crypto::Signer& key_;
  std::string directoryUrl_;
  Sleeper& sleeper_;
  RetryPolicy policy_;
  std::optional<Directory> directory_;
  std::optional<std::string> nonce_;
  std::string kid_;
  int requests_ = 0;
  int badNonces_ = 0;
};

// Parses a problem document; a body that is none becomes "HTTP <status>: <start of body>".
Problem parseProblem(const HttpResponse& response);

}  // namespace sc::acme
