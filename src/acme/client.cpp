#include "acme/client.h"

#include <functional>
#include <sstream>

#include <Poco/DateTimeParser.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "core/time_format.h"
#include "crypto/cert.h"
#include "crypto/encoding.h"

namespace sc::acme {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

std::string str(const Object::Ptr& o, const char* key) { return o ? o->optValue<std::string>(key, "") : ""; }

std::string toJson(const Object& o) {
  std::ostringstream out;
  o.stringify(out);
  return out.str();
}

Result<Object::Ptr> parseObject(const std::string& body, const std::string& what) {
  try {
    auto v = Poco::JSON::Parser().parse(body);
    auto obj = v.extract<Object::Ptr>();
    if (!obj) return fail(what + ": the reply is not a JSON object");
    return obj;
  } catch (const Poco::Exception& e) {
    return fail(what + ": the reply is not JSON: " + e.displayText());
  }
}

Problem problemFrom(const Object::Ptr& o) {
  Problem p;
  p.type = str(o, "type");
  p.detail = str(o, "detail");
  p.status = o->optValue<int>("status", 0);
  if (auto id = o->getObject("identifier")) p.identifier = str(id, "value");
  if (auto subs = o->getArray("subproblems"))
    for (std::size_t i = 0; i < subs->size(); ++i)
      if (auto sub = subs->getObject(static_cast<unsigned>(i))) p.subproblems.push_back(problemFrom(sub));
  return p;
}

std::vector<std::string> strings(const Object::Ptr& o, const char* key) {
  std::vector<std::string> out;
  if (auto arr = o->getArray(key))
    for (std::size_t i = 0; i < arr->size(); ++i) out.push_back(arr->getElement<std::string>(static_cast<unsigned>(i)));
  return out;
}

Order orderFrom(const Object::Ptr& o, const std::string& url) {
  Order order;
  order.url = url;
  order.status = str(o, "status");
  order.finalize = str(o, "finalize");
  order.certificate = str(o, "certificate");
  order.authorizations = strings(o, "authorizations");
  if (auto err = o->getObject("error")) order.error = problemFrom(err);
  return order;
}

Authorization authorizationFrom(const Object::Ptr& o, const std::string& url) {
  Authorization a;
  a.url = url;
  a.status = str(o, "status");
  if (auto id = o->getObject("identifier")) a.identifier = str(id, "value");
  if (auto chs = o->getArray("challenges")) {
    for (std::size_t i = 0; i < chs->size(); ++i) {
      auto ch = chs->getObject(static_cast<unsigned>(i));
      if (!ch) continue;
      a.challenges.push_back({str(ch, "type"), str(ch, "url"), str(ch, "token"), str(ch, "status")});
      if (auto err = ch->getObject("error")) a.error = problemFrom(err);
    }
  }
  return a;
}

std::string subject(const Authorization& a) { return "authorization for " + a.identifier; }
std::string subject(const Order& o) { return "order " + o.url; }

// Link: <https://ca/cert/1/1>;rel="alternate"
std::vector<std::string> alternateLinks(const HttpResponse& r) {
  std::vector<std::string> out;
  auto it = r.headers.find("link");
  if (it == r.headers.end()) return out;
  for (const auto& value : it->second) {
    std::stringstream ss(value);
    for (std::string part; std::getline(ss, part, ',');) {
      auto lt = part.find('<'), gt = part.find('>');
      if (lt == std::string::npos || gt == std::string::npos) continue;
      if (part.find("rel=\"alternate\"") != std::string::npos || part.find("rel=alternate") != std::string::npos)
        out.push_back(part.substr(lt + 1, gt - lt - 1));
    }
  }
  return out;
}

std::unexpected<Error> failProblem(const std::string& what, const HttpResponse& r) {
  Problem p = parseProblem(r);
  return std::unexpected(Error{what + ": " + p.describe(), r.status, parseRetryAfter(r.header("retry-after"), Clock::now())});
}

}  // namespace

Problem parseProblem(const HttpResponse& response) {
  auto obj = parseObject(response.body, "problem");
  if (obj && !str(*obj, "type").empty()) return problemFrom(*obj);
  Problem p;
  p.type = "HTTP " + std::to_string(response.status);
  p.detail = response.body.substr(0, 200);
  p.status = response.status;
  return p;
}

std::chrono::seconds parseRetryAfter(const std::string& value, TimePoint now) {
  if (value.empty()) return std::chrono::seconds(0);
  if (std::all_of(value.begin(), value.end(), ::isdigit) && value.size() < 9)
    return std::chrono::seconds(std::stol(value));
  try {
    int tz = 0;
    Poco::DateTime when = Poco::DateTimeParser::parse(value, tz);
    auto at = Clock::from_time_t(when.timestamp().epochTime());
    return std::max(std::chrono::seconds(0), std::chrono::duration_cast<std::chrono::seconds>(at - now));
  } catch (const Poco::Exception&) {
    return std::chrono::seconds(0);
  }
}

Client::Client(HttpTransport& http, const crypto::Signer& key, std::string directoryUrl, Sleeper& sleeper,
               RetryPolicy policy)
    : http_(http), key_(key), directoryUrl_(std::move(directoryUrl)), sleeper_(sleeper), policy_(policy) {}

Result<HttpResponse> Client::transient(const std::function<Result<HttpResponse>()>& call, const std::string& what) {
  auto delay = policy_.transientBackoff;
  for (int attempt = 0;; ++attempt) {
    ++requests_;
    auto r = call();
    bool retryable = !r || (r->status >= 500 && r->status != 503) || (r->status == 503 && r->header("retry-after").empty());
    if (!retryable || attempt >= policy_.transientRetries) {
      if (!r) return wrap(what, r.error());
      return r;
    }
    sleeper_.sleep(delay);
    delay *= 2;
  }
}

Result<Directory> Client::directory() {
  if (directory_) return *directory_;
  auto r = transient([&] { return http_.get(directoryUrl_); }, "GET directory " + directoryUrl_);
  if (!r) return std::unexpected(r.error());
  if (r->status != 200) return failProblem("GET directory " + directoryUrl_, *r);
  auto obj = parseObject(r->body, "directory " + directoryUrl_);
  if (!obj) return std::unexpected(obj.error());
  Directory d;
  d.newNonce = str(*obj, "newNonce");
  d.newAccount = str(*obj, "newAccount");
  d.newOrder = str(*obj, "newOrder");
  d.revokeCert = str(*obj, "revokeCert");
  d.renewalInfo = str(*obj, "renewalInfo");
  if (auto meta = (*obj)->getObject("meta")) {
    d.externalAccountRequired = meta->optValue<bool>("externalAccountRequired", false);
    if (auto profiles = meta->getObject("profiles"))
      for (const auto& [name, _] : *profiles) d.profiles.push_back(name);
  }
  if (d.newNonce.empty() || d.newAccount.empty() || d.newOrder.empty())
    return fail("directory " + directoryUrl_ + " lacks newNonce, newAccount or newOrder: is it an ACME directory?");
  directory_ = d;
  return d;
}

void Client::keepNonce(const HttpResponse& r) {
  std::string n = r.header("replay-nonce");
  if (!n.empty()) nonce_ = n;
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
  std::string n = r->header("replay-nonce");
  if (n.empty()) return fail("HEAD " + dir->newNonce + ": no Replay-Nonce in the reply (HTTP " + std::to_string(r->status) + ")");
  return n;
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
                                  const std::string& accept) {
  auto nonce = freshNonce();
  if (!nonce) return std::unexpected(nonce.error());
  auto body = jws(url, payload, withJwk, *nonce);
  if (!body) return std::unexpected(body.error());
  auto r = transient([&] { return http_.post(url, *body, accept); }, "POST " + url);
  if (r) keepNonce(*r);
  return r;
}

Result<HttpResponse> Client::signedPost(const std::string& url, const std::string& payload, bool withJwk,
                                        const std::string& accept) {
  int badNonces = 0, waits = 0;
  while (true) {
    auto r = send(url, payload, withJwk, accept);
    if (!r || r->status < 400) return r;
    Problem p = parseProblem(*r);
    if (p.is("badNonce") && badNonces++ < policy_.badNonceRetries) {  // RFC 8555 6.5
      ++badNonces_;
      continue;
    }
    if (p.is("accountDoesNotExist") && !withJwk) accountMissing_ = true;
    lastProblem_ = p;
    auto wait = parseRetryAfter(r->header("retry-after"), Clock::now());
    bool busy = p.is("rateLimited") || r->status == 503;
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
  kid_ = r->header("location");
  if (kid_.empty()) return fail("newAccount: no Location in the reply");
  return kid_;
}

Result<Order> Client::newOrder(const std::vector<std::string>& names, const std::string& replaces,
                               const std::string& profile) {
  auto dir = directory();
  if (!dir) return std::unexpected(dir.error());
  Object payload(Poco::JSON_PRESERVE_KEY_ORDER);
  Array ids;
  for (const auto& n : names) {
    Object id(Poco::JSON_PRESERVE_KEY_ORDER);
    id.set("type", std::string("dns"));
    id.set("value", n);
    ids.add(id);
  }
  payload.set("identifiers", ids);
  if (!profile.empty()) payload.set("profile", profile);
  if (!replaces.empty()) payload.set("replaces", replaces);
  auto r = signedPost(dir->newOrder, toJson(payload), false);
  if (!r) return wrap("place the order", r.error());
  auto obj = parseObject(r->body, "newOrder");
  if (!obj) return std::unexpected(obj.error());
  return orderFrom(*obj, r->header("location"));
}

Result<Authorization> Client::authorization(const std::string& url) {
  auto r = signedPost(url, "", false);
  if (!r) return std::unexpected(r.error());
  auto obj = parseObject(r->body, "authorization " + url);
  if (!obj) return std::unexpected(obj.error());
  return authorizationFrom(*obj, url);
}

Status Client::acceptChallenge(const std::string& url) {
  auto r = signedPost(url, "{}", false);
  if (!r) return wrap("answer the challenge", r.error());
  return {};
}

// Polls a pending resource: brisk pauses doubling up to maxPoll, or as long as
// Retry-After asks; gives up at the poll deadline. `pauseFirst` (a Retry-After,
// or 0 for a brisk pause) when the resource was just seen pending.
template <class T>
Result<T> Client::pollUntilSettled(const std::string& url, const std::string& what,
                                   const std::function<T(const Object::Ptr&)>& parse,
                                   const std::function<bool(const T&)>& settled,
                                   std::optional<std::chrono::seconds> pauseFirst) {
  auto delay = policy_.firstPoll;
  auto deadline = std::chrono::steady_clock::now() + policy_.pollDeadline;
  auto pause = pauseFirst;
  while (true) {
    if (pause) {
      if (pause->count() > 0)
        sleeper_.sleep(std::chrono::duration_cast<std::chrono::milliseconds>(*pause));
      else
        sleeper_.pollPause(delay);
      delay = std::min(delay * 2, policy_.maxPoll);
    }
    auto r = signedPost(url, "", false);
    if (!r) return std::unexpected(r.error());
    auto obj = parseObject(r->body, what + " " + url);
    if (!obj) return std::unexpected(obj.error());
    T resource = parse(*obj);
    if (settled(resource)) return resource;
    if (std::chrono::steady_clock::now() > deadline) return fail(subject(resource) + " still " + resource.status);
    pause = parseRetryAfter(r->header("retry-after"), Clock::now());
  }
}

Result<Authorization> Client::waitForAuthorization(const std::string& url) {
  // Called right after its challenge was answered: the CA is still validating.
  return pollUntilSettled<Authorization>(
      url, "authorization", [&](const Object::Ptr& o) { return authorizationFrom(o, url); },
      [](const Authorization& a) { return a.status != "pending" && a.status != "processing"; },
      std::chrono::seconds(0));
}

Result<Order> Client::waitForOrder(const std::string& url, const std::set<std::string>& until,
                                   std::optional<std::chrono::seconds> pauseFirst) {
  return pollUntilSettled<Order>(
      url, "order", [&](const Object::Ptr& o) { return orderFrom(o, url); },
      [&](const Order& o) { return until.count(o.status) > 0 || o.status == "invalid"; }, pauseFirst);
}

Result<Order> Client::finalize(const Order& order, const std::string& csrDer) {
  Object payload;
  payload.set("csr", crypto::base64url(csrDer));
  lastProblem_.reset();
  auto r = signedPost(order.finalize, toJson(payload), false);
  if (!r && lastProblem_ && lastProblem_->is("orderNotReady")) {
    auto ready = waitForOrder(order.url, {"ready", "valid"});
    if (!ready || ready->status != "ready") return ready;
    r = signedPost(order.finalize, toJson(payload), false);
  }
  if (!r) return wrap("finalize the order", r.error());
  auto obj = parseObject(r->body, "finalize");
  if (!obj) return std::unexpected(obj.error());
  auto updated = orderFrom(*obj, order.url);
  if (updated.status == "valid" || updated.status == "invalid") return updated;
  return waitForOrder(order.url, {"valid"}, parseRetryAfter(r->header("retry-after"), Clock::now()));
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
  for (const auto& alt : alternateLinks(*r)) {
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
  auto r = transient([&] { return http_.get(url); }, "GET " + url);
  if (!r) return std::unexpected(r.error());
  if (r->status != 200) return failProblem("GET " + url, *r);
  auto obj = parseObject(r->body, "renewalInfo");
  if (!obj) return std::unexpected(obj.error());
  auto window = (*obj)->getObject("suggestedWindow");
  auto start = parseTime(str(window, "start"));
  auto end = parseTime(str(window, "end"));
  if (!start || !end || *end < *start) return fail("renewalInfo: no usable suggestedWindow");
  return RenewalInfo{*start, *end, parseRetryAfter(r->header("retry-after"), Clock::now()), str(*obj, "explanationURL")};
}

}  // namespace sc::acme
