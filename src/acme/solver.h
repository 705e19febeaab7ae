#pragma once
// How one kind of challenge is met (RFC 8555 8): http-01 through the responder,
// dns-persist-01 by a record a person made once, dns-01 by records sidecert adds
// and removes. sources/ holds one for each; AcmeSource asks the lineage's own.
#include <string>
#include <vector>

#include "acme/types.h"
#include "core/result.h"

namespace sc::acme {

struct ChallengeTask {
  std::string identifier;  // as the authorization names it: a wildcard's base domain
  bool wildcard = false;
  Challenge challenge;
  std::string keyAuthorization;  // token "." thumbprint; empty for dns-persist-01
  bool answered = false;         // told to the CA before (a run a crash cut short)
  std::string accountUrl;        // the account the order is placed with
};

class Solver {
 public:
  virtual ~Solver() = default;
  virtual const char* type() const = 0;  // as the CA names it: "http-01"
  // Before any order: whether the challenge can succeed for these names and this
  // account, as far as sidecert can see. An ErrorKind::NotReady error says what a
  // person must do first; no order is placed, so no failed validation is spent.
  virtual Status readyToOrder(const std::vector<std::string>& /*names*/, const std::string& /*accountUrl*/,
                              const Directory& /*directory*/) {
    return {};
  }
  // Makes the CA's check of every task pass and confirms it will, before the CA
  // is told. It never sleeps or waits for DNS to catch up: what is placed but not
  // yet visible where the CA looks is an ErrorKind::NotReady error naming what is
  // missing where, with Error::retryAfter (at least 1 s) saying when to look
  // again. Nothing was told to the CA then; the caller does not call cleanUp(),
  // ends its pass, and calls present() again with the same tasks after
  // retryAfter: a solver does not place again what it placed for them (dns-01
  // sends no second update) and only looks, counting its timeout from the first
  // placement. OK once every check passes; any other error (a timeout among them)
  // and OK are both followed by cleanUp().
  virtual Status present(const std::vector<ChallengeTask>& tasks) = 0;
  virtual void cleanUp() = 0;
  // What an earlier run left where the CA looks (dns-01 records a crash kept from
  // being removed): removed before a new order, and at start.
  virtual void tidyUp() {}
};

}  // namespace sc::acme
