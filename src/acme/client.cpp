#include "acme/client.h"

#include <functional>
#include <sstream>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "core/domain.h"
#include "core/time_format.h"
#include "crypto/cert.h"
#include "crypto/encoding.h"
#include "acme/wire.h"

namespace sc::acme {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

std::string toJson(const Object& o) {
  std::ostringstream out;
  o.stringify(out);
  return out.str();
}

std::string subject(const Authorization& a) { return "authorization for " + a.identifier; }
std::string subject(const Order& o) { return "order " + o.url; }

std::chrono::seconds retryAfterOf(const HttpResponse& r) { return wire::retryAfter(r.header("retry-after"), wallClockNow()); }

std::unexpected<Error> failProblem(const std::string& what, const HttpResponse& r) {
  Problem p = parseProblem(r);
  auto e = fail(what + ": " + p.describe(), r.status).error();
  e.retryAfter = retryAfterOf(r);
  e.kind = ErrorKind::Problem;
  e.problem = p.kind;
  return std::unexpected(std::move(e));
}

}  // namespace

Problem parseProblem(const HttpResponse& response) {
  if (auto p = wire::problem(response.body)) return *p;
  Problem p;
  p.type = "HTTP " + std::to_string(response.status);
  p.detail = wire::excerpt(response.body);
  p.status = response.status;
  return p;
}

Client::Client(HttpTransport& http, const crypto::Signer& key, std::string directoryUrl, Sleeper& sleeper,
               RetryPolicy policy)
    : http_(http), key_(key), directoryUrl_(std::move(directoryUrl)), sleeper_(sleeper), policy_(policy) {}

Status Client::cancelled(const std::string& what) const {
  if (sleeper_.cancelled()) return failAs(ErrorKind::Cancelled, what + ": stopped (SIGTERM)");
  return {};
}

// The transport's errors already name the method and URL.
Result<HttpResponse> Client::transient(const std::function<Result<HttpResponse>()>& call, const std::string& what,
                                       Resend resend) {
  auto delay = policy_.transientBackoff;
  int retries = resend == Resend::Never ? 0 : policy_.transientRetries;
  for (int attempt = 0;; ++attempt) {
    if (auto stop = cancelled(what); !stop) return std::unexpected(stop.error());
    ++requests_;
    auto r = call();
    // A reply too large or malformed comes the same way the next time.
    if (!r && (r.error().is(ErrorKind::Cancelled) || r.error().is(ErrorKind::Protocol))) return r;
    bool retryable = !r || (r->status >= 500 && r->status != 503) || (r->status == 503 && r->header("retry-after").empty());
    if (!retryable || attempt >= retries) return r;
    sleeper_.sleep(delay);
    delay *= 2;
  }
}

Result<Directory> Client::directory() {
  if (directory_) return *directory_;
  auto r = transient([&] { return http_.get(directoryUrl_); }, "GET directory " + directoryUrl_);
  if (!r) return std::unexpected(r.error());
  if (r->status != 200) return failProblem("GET directory " + directoryUrl_, *r);
  auto d = wire::directory(r->body);
  if (!d) return wrap(directoryUrl_ + " is not a usable ACME directory", d.error());
  directory_ = *d;
  return *d;
}

void Client::keepNonce(const HttpResponse& r) {
  std::string n = r.header("replay-nonce");
  // RFC 8555 6.5.1: base64url; a CA's nonce goes back into our signed header.
  if (!n.empty() && n.size() <= 512 && wire::isBase64Url(n)) nonce_ = n;
}

Result<std::string> Client::freshNonce() {
  if (nonce_) {
    std::string n = *nonce_;
    nonce_.reset();
    return n;
  }
  auto dir = directory();
  if (!dir) return std::unexpected(dir.error());
  auto r = transient([&] { return http_.head(dir->newNonce); }, "HEAD newNonce");
  if (!r) return std::unexpected(r.error());
  keepNonce(*r);
  if (!nonce_)
    return failAs(ErrorKind::Protocol, "HEAD " + dir->newNonce + ": no usable Replay-Nonce in the reply (HTTP " +
                                           std::to_string(r->status) + ")");
  return freshNonce();
}

Result<std::string> Client::jws(const std::string& url, const std::string& payload, bool withJwk,
                                const std::string& nonce) {
  Object header(Poco::JSON_PRESERVE_KEY_ORDER);
  header.set("alg", key_.alg());
  if (withJwk) header.set("jwk", Poco::JSON::Parser().parse(key_.jwk()));
  else header.set("kid", kid_);
  header.set("nonce", nonce);
  header.set("url", url);
  std::string protected64 = crypto::base64url(toJson(header));
  std::string payload64 = payload.empty() ? "" : crypto::base64url(payload);  // "" is POST-as-GET
  auto sig = key_.sign(protected64 + "." + payload64);
  if (!sig) return std::unexpected(sig.error());
  Object body(Poco::JSON_PRESERVE_KEY_ORDER);
  body.set("protected", protected64);
  body.set("payload", payload64);
  body.set("signature", crypto::base64url(*sig));
  return toJson(body);
}

Result<HttpResponse> Client::send(const std::string& url, const std::string& payload, bool withJwk,
                                  const std::string& accept, Resend resend) {
  auto nonce = freshNonce();
  if (!nonce) return std::unexpected(nonce.error());
  auto body = jws(url, payload, withJwk, *nonce);
  if (!body) return std::unexpected(body.error());
  auto r = transient([&] { return http_.post(url, *body, accept); }, "POST " + url, resend);
  if (r) keepNonce(*r);
  return r;
}

Result<HttpResponse> Client::signedPost(const std::string& url, const std::string& payload, bool withJwk,
                                        const std::string& accept, Resend resend) {
  int badNonces = 0, waits = 0;
  while (true) {
    auto r = send(url, payload, withJwk, accept, resend);
    if (!r || r->status < 400) return r;
    Problem p = parseProblem(*r);
    if (p.is(ProblemType::BadNonce) && badNonces++ < policy_.badNonceRetries) {  // RFC 8555 6.5
      ++badNonces_;
      continue;
    }
    auto wait = retryAfterOf(*r);
    // A newOrder refused as rateLimited is not placed again here: the account's pace
    // holds every lineage of the account until then (renew/account_pace.h), where a
    // wait in this request would let the others order meanwhile.
    bool limited = p.is(ProblemType::RateLimited) && resend != Resend::Never;
    bool busy = limited || r->status == 503;
    if (busy && wait.count() > 0 && wait <= policy_.maxInlineWait && waits++ < 2) {
      sleeper_.sleep(wait);
      continue;
    }
    return failProblem("POST " + url, *r);
  }
}

Result<std::string> Client::eabBinding(const AccountOptions& options, const std::string& url) {
  auto mac = crypto::base64urlDecode(options.eabHmacKey);
  if (!mac || mac->empty()) return fail("SIDECERT_EAB_HMAC_KEY is not base64url");
  Object header(Poco::JSON_PRESERVE_KEY_ORDER);
  header.set("alg", std::string("HS256"));
  header.set("kid", options.eabKid);
  header.set("url", url);
  std::string signingInput = crypto::base64url(toJson(header)) + "." + crypto::base64url(key_.jwk());
  auto sig = crypto::hmacSha256(*mac, signingInput);
  if (!sig) return std::unexpected(sig.error());
  Object binding(Poco::JSON_PRESERVE_KEY_ORDER);
  binding.set("protected", crypto::base64url(toJson(header)));
  binding.set("payload", crypto::base64url(key_.jwk()));
  binding.set("signature", crypto::base64url(*sig));
  return toJson(binding);
}

Result<std::string> Client::account(const AccountOptions& options, const std::optional<std::string>& knownUrl) {
  if (knownUrl && !knownUrl->empty()) {
    kid_ = *knownUrl;
    return kid_;
  }
  auto dir = directory();
  if (!dir) return std::unexpected(dir.error());
  bool eab = !options.eabKid.empty();
  if (dir->externalAccountRequired && !eab)
    return fail("the CA at " + directoryUrl_ +
                " requires External Account Binding: set SIDECERT_EAB_KID and SIDECERT_EAB_HMAC_KEY from your CA account");
  Object payload(Poco::JSON_PRESERVE_KEY_ORDER);
  payload.set("termsOfServiceAgreed", true);
  if (!options.email.empty()) {
    Array contact;
    contact.add("mailto:" + options.email);
    payload.set("contact", contact);
  }
  if (eab) {
    auto binding = eabBinding(options, dir->newAccount);
    if (!binding) return std::unexpected(binding.error());
    payload.set("externalAccountBinding", Poco::JSON::Parser().parse(*binding));
  }
  auto r = signedPost(dir->newAccount, toJson(payload), true);
  if (!r) return wrap("create the ACME account", r.error());
  if (auto ok = wire::account(r->body); !ok) return std::unexpected(ok.error());
  std::string kid = r->header("location");
  if (kid.empty() || kid.size() > wire::kMaxUrl || kid.rfind("https://", 0) != 0)
    return failAs(ErrorKind::Protocol, "newAccount: no https account URL in Location");
  kid_ = kid;
  return kid_;
}

Result<Order> Client::newOrder(const std::vector<std::string>& names, const std::string& replaces,
                               const std::string& profile) {
  auto dir = directory();
  if (!dir) return std::unexpected(dir.error());
  // The last look before an order exists at the CA: none is placed once told to stop.
  if (auto stop = cancelled("place the order"); !stop) return std::unexpected(stop.error());
  Object payload(Poco::JSON_PRESERVE_KEY_ORDER);
  Array ids;
  for (const auto& n : names) {
    Object id(Poco::JSON_PRESERVE_KEY_ORDER);
    id.set("type", std::string(isIpAddress(n) ? "ip" : "dns"));
    id.set("value", n);
    ids.add(id);
  }
  payload.set("identifiers", ids);
  if (!profile.empty()) payload.set("profile", profile);
  if (!replaces.empty()) payload.set("replaces", replaces);
  // A badNonce refusal is sent again: the CA created no order.
  auto r = signedPost(dir->newOrder, toJson(payload), false, "", Resend::Never);
  if (!r) return wrap("place the order", r.error());
  std::string url = r->header("location");
  if (url.empty() || url.size() > wire::kMaxUrl || url.rfind("https://", 0) != 0)
    return failAs(ErrorKind::Protocol, "newOrder: no https order URL in Location (reply begins: " +
                                           wire::excerpt(r->body) + ")");
  auto order = wire::order(r->body, url, names.size());
  if (!order) return std::unexpected(order.error());
  order->identifiers = names.size();
  return order;
}

Result<Order> Client::fetchOrder(const std::string& url, std::size_t identifiers) {
  auto r = signedPost(url, "", false);
  if (!r) return wrap("fetch the order", r.error());
  auto order = wire::order(r->body, url, identifiers);
  if (!order) return std::unexpected(order.error());
  order->identifiers = identifiers;
  return order;
}

Result<Authorization> Client::authorization(const std::string& url) {
  auto r = signedPost(url, "", false);
  if (!r) return std::unexpected(r.error());
  return wire::authorization(r->body, url);
}

Status Client::acceptChallenge(const std::string& url) {
  auto r = signedPost(url, "{}", false);
  if (!r) return wrap("answer the challenge", r.error());
  return {};
}

// Polls a pending resource: brisk pauses from `firstDelay` doubling up to maxPoll, or as long as
// Retry-After asks, but never past the poll deadline: a Retry-After beyond it
// ends the attempt (carrying the wait to the retry schedule) instead of holding
// the process. `pauseFirst` (a Retry-After, or 0 for a brisk pause) when the
// resource was just seen pending.
template <class T>
Result<T> Client::pollUntilSettled(const std::string& url, const std::function<Result<T>(const std::string&)>& parse,
                                   const std::function<bool(const T&)>& settled,
                                   std::optional<std::chrono::seconds> pauseFirst,
                                   std::chrono::milliseconds firstDelay) {
  auto delay = firstDelay;
  auto deadline = std::chrono::steady_clock::now() + policy_.pollDeadline;
  auto pause = pauseFirst;
  std::string still = url + " still pending";
  while (true) {
    if (pause) {
      auto left = std::chrono::duration_cast<std::chrono::seconds>(deadline - std::chrono::steady_clock::now());
      if (*pause > left) {
        auto e = fail(still + ", and the CA asks to wait " + std::to_string(pause->count()) +
                      " s, past the attempt's deadline").error();
        e.retryAfter = *pause;
        return std::unexpected(std::move(e));
      }
      if (pause->count() > 0)
        sleeper_.sleep(std::chrono::duration_cast<std::chrono::milliseconds>(*pause));
      else
        sleeper_.pollPause(delay);
      delay = std::min(delay * 2, policy_.maxPoll);
    }
    if (auto stop = cancelled("poll " + url); !stop) return std::unexpected(stop.error());
    auto r = signedPost(url, "", false);
    if (!r) return std::unexpected(r.error());
    auto resource = parse(r->body);
    if (!resource) return std::unexpected(resource.error());
    if (settled(*resource)) return *resource;
    still = subject(*resource) + " still " + statusName(resource->status);
    if (std::chrono::steady_clock::now() > deadline) return fail(still);
    pause = retryAfterOf(*r);
  }
}

Result<Authorization> Client::waitForAuthorization(const std::string& url) {
  // Called right after its challenge was answered: the CA is still validating.
  return pollUntilSettled<Authorization>(
      url, [&](const std::string& body) { return wire::authorization(body, url); },
      [](const Authorization& a) { return a.status != AuthorizationStatus::Pending; }, std::chrono::seconds(0), policy_.firstPoll);
}

Result<Order> Client::waitForOrder(const Order& order, const std::set<OrderStatus>& until,
                                   std::optional<std::chrono::seconds> pauseFirst) {
  return pollUntilSettled<Order>(
      order.url,
      [&](const std::string& body) {
        auto o = wire::order(body, order.url, order.identifiers);
        if (o) o->identifiers = order.identifiers;
        return o;
      },
      [&](const Order& o) { return until.count(o.status) > 0 || o.status == OrderStatus::Invalid; }, pauseFirst,
      policy_.firstOrderPoll);
}

Result<Order> Client::finalize(const Order& order, const std::string& csrDer) {
  Object payload;
  payload.set("csr", crypto::base64url(csrDer));
  auto r = signedPost(order.finalize, toJson(payload), false);
  if (!r && r.error().isProblem(ProblemType::OrderNotReady)) {
    auto ready = waitForOrder(order, {OrderStatus::Ready, OrderStatus::Valid});
    if (!ready || ready->status != OrderStatus::Ready) return ready;
    r = signedPost(order.finalize, toJson(payload), false);
  }
  if (!r) return wrap("finalize the order", r.error());
  auto updated = wire::order(r->body, order.url, order.identifiers);
  if (!updated) return std::unexpected(updated.error());
  updated->identifiers = order.identifiers;
  switch (updated->status) {
    case OrderStatus::Valid:
    case OrderStatus::Invalid:
      return updated;  // settled
    case OrderStatus::Pending:
    case OrderStatus::Ready:
    case OrderStatus::Processing:
      break;  // the CA is still at it
  }
  return waitForOrder(order, {OrderStatus::Valid}, retryAfterOf(*r));
}

Result<std::string> Client::downloadCertificate(const std::string& url, const std::string& preferredIssuer) {
  auto r = signedPost(url, "", false, "application/pem-certificate-chain");
  if (!r) return wrap("download the certificate", r.error());
  if (preferredIssuer.empty()) return r->body;
  auto topIssuer = [](const std::string& pem) {
    auto certs = crypto::Certificate::parseAll(pem);
    return certs ? certs->back().issuerCommonName() : std::string();
  };
  if (topIssuer(r->body) == preferredIssuer) return r->body;
  auto links = r->headers.find("link");
  if (links == r->headers.end()) return r->body;
  for (const auto& alt : wire::alternateLinks(links->second)) {
    auto a = signedPost(alt, "", false, "application/pem-certificate-chain");
    if (a && topIssuer(a->body) == preferredIssuer) return a->body;
  }
  return r->body;  // no chain matched: the default one, as certbot does
}

Status Client::revoke(const std::string& certDer, int reason) {
  auto dir = directory();
  if (!dir) return std::unexpected(dir.error());
  Object payload(Poco::JSON_PRESERVE_KEY_ORDER);
  payload.set("certificate", crypto::base64url(certDer));
  payload.set("reason", reason);
  auto r = signedPost(dir->revokeCert, toJson(payload), false);
  if (!r) return wrap("revoke", r.error());
  return {};
}

Result<RenewalInfo> Client::renewalInfo(const std::string& certId) {
  auto dir = directory();
  if (!dir) return std::unexpected(dir.error());
  if (dir->renewalInfo.empty()) return fail("the CA offers no renewalInfo");
  std::string url = dir->renewalInfo + (dir->renewalInfo.back() == '/' ? "" : "/") + certId;
  // Asked once: the answer is advice, and the renewal must not wait for retries.
  auto r = transient([&] { return http_.get(url); }, "GET " + url, Resend::Never);
  if (!r) return std::unexpected(r.error());
  if (r->status != 200) return failProblem("GET " + url, *r);
  auto info = wire::renewalInfo(r->body);
  if (!info) return std::unexpected(info.error());
  info->retryAfter = retryAfterOf(*r);
  return info;
}

}  // namespace sc::acme
