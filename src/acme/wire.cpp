#include "acme/wire.h"

#include <algorithm>
#include <charconv>
#include <set>
#include <sstream>

#include <Poco/DateTimeParser.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "core/domain.h"
#include "core/time_format.h"

namespace sc::acme::wire {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

// What is being read, to name it in an error, with the reply it came from.
struct Reading {
  std::string what;
  const std::string& body;
  std::unexpected<Error> bad(const std::string& why) const {
    return failAs(ErrorKind::Protocol, what + ": " + why + " (reply begins: " + excerpt(body) + ")");
  }
};

Result<Object::Ptr> parseObject(const Reading& r) {
  if (r.body.size() > kMaxJsonReply) return r.bad("the reply is larger than " + std::to_string(kMaxJsonReply) + " bytes");
  try {
    auto v = Poco::JSON::Parser().parse(r.body);
    if (v.type() != typeid(Object::Ptr)) return r.bad("the reply is not a JSON object");
    auto obj = v.extract<Object::Ptr>();
    if (!obj) return r.bad("the reply is not a JSON object");
    return obj;
  } catch (const Poco::Exception& e) {
    return r.bad("the reply is not JSON: " + e.displayText());
  } catch (const std::exception& e) {
    return r.bad(std::string("the reply is not JSON: ") + e.what());
  }
}

// "" when absent or null; an error when present as anything but a short string.
Result<std::string> optString(const Object::Ptr& o, const std::string& key, std::size_t max, const Reading& r) {
  if (!o->has(key) || o->isNull(key)) return std::string();
  auto v = o->get(key);
  if (!v.isString()) return r.bad("'" + key + "' is not a string");
  auto s = v.extract<std::string>();
  if (s.size() > max) return r.bad("'" + key + "' is longer than " + std::to_string(max) + " characters");
  return s;
}

Result<std::string> needString(const Object::Ptr& o, const std::string& key, std::size_t max, const Reading& r) {
  auto s = optString(o, key, max, r);
  if (s && s->empty()) return r.bad("'" + key + "' is missing");
  return s;
}

bool isHttpsUrl(const std::string& s) {
  return s.size() > 8 && s.size() <= kMaxUrl && s.rfind("https://", 0) == 0 &&
         std::none_of(s.begin(), s.end(), [](unsigned char c) { return c <= ' ' || c >= 0x7f; });
}

Result<std::string> url(const Object::Ptr& o, const std::string& key, bool required, const Reading& r) {
  auto s = required ? needString(o, key, kMaxUrl, r) : optString(o, key, kMaxUrl, r);
  if (!s || s->empty()) return s;
  if (!isHttpsUrl(*s)) return r.bad("'" + key + "' is not an https URL");
  return s;
}

// RFC 8555 7.1.6: each object's states by their names on the wire.
template <class E>
using Names = std::initializer_list<std::pair<const char*, E>>;
constexpr Names<OrderStatus> kOrderStatuses = {{"pending", OrderStatus::Pending},
                                               {"ready", OrderStatus::Ready},
                                               {"processing", OrderStatus::Processing},
                                               {"valid", OrderStatus::Valid},
                                               {"invalid", OrderStatus::Invalid}};
constexpr Names<AuthorizationStatus> kAuthorizationStatuses = {
    {"pending", AuthorizationStatus::Pending},         {"valid", AuthorizationStatus::Valid},
    {"invalid", AuthorizationStatus::Invalid},         {"deactivated", AuthorizationStatus::Deactivated},
    {"expired", AuthorizationStatus::Expired},         {"revoked", AuthorizationStatus::Revoked}};
constexpr Names<ChallengeStatus> kChallengeStatuses = {{"pending", ChallengeStatus::Pending},
                                                       {"processing", ChallengeStatus::Processing},
                                                       {"valid", ChallengeStatus::Valid},
                                                       {"invalid", ChallengeStatus::Invalid}};
// RFC 8555 6.7, RFC 9773 (alreadyReplaced), the profiles draft (invalidProfile).
constexpr Names<ProblemType> kProblemTypes = {
    {"accountDoesNotExist", ProblemType::AccountDoesNotExist},
    {"alreadyReplaced", ProblemType::AlreadyReplaced},
    {"alreadyRevoked", ProblemType::AlreadyRevoked},
    {"badCSR", ProblemType::BadCsr},
    {"badNonce", ProblemType::BadNonce},
    {"badPublicKey", ProblemType::BadPublicKey},
    {"badRevocationReason", ProblemType::BadRevocationReason},
    {"badSignatureAlgorithm", ProblemType::BadSignatureAlgorithm},
    {"caa", ProblemType::Caa},
    {"compound", ProblemType::Compound},
    {"connection", ProblemType::Connection},
    {"dns", ProblemType::Dns},
    {"externalAccountRequired", ProblemType::ExternalAccountRequired},
    {"incorrectResponse", ProblemType::IncorrectResponse},
    {"invalidContact", ProblemType::InvalidContact},
    {"invalidProfile", ProblemType::InvalidProfile},
    {"malformed", ProblemType::Malformed},
    {"orderNotReady", ProblemType::OrderNotReady},
    {"rateLimited", ProblemType::RateLimited},
    {"rejectedIdentifier", ProblemType::RejectedIdentifier},
    {"serverInternal", ProblemType::ServerInternal},
    {"tls", ProblemType::Tls},
    {"unauthorized", ProblemType::Unauthorized},
    {"unsupportedContact", ProblemType::UnsupportedContact},
    {"unsupportedIdentifier", ProblemType::UnsupportedIdentifier},
    {"userActionRequired", ProblemType::UserActionRequired}};

template <class E>
const char* nameOf(Names<E> names, E value) {
  for (const auto& [name, v] : names)
    if (v == value) return name;
  return "?";
}

// The object's status; one RFC 8555 does not define for it is a Protocol error.
template <class E>
Result<E> status(const Object::Ptr& o, Names<E> allowed, const Reading& r) {
  auto s = needString(o, "status", 32, r);
  if (!s) return std::unexpected(s.error());
  for (const auto& [name, value] : allowed)
    if (*s == name) return value;
  return r.bad("status '" + excerpt(*s) + "' is not one RFC 8555 defines here");
}

Result<Problem> problemFrom(const Object::Ptr& o, const Reading& r, int depth) {
  Problem p;
  auto type = optString(o, "type", 256, r);
  auto detail = optString(o, "detail", kMaxText, r);
  if (!type) return std::unexpected(type.error());
  if (!detail) return std::unexpected(detail.error());
  p.type = *type;
  p.kind = problemType(*type);
  p.detail = *detail;
  if (o->has("status") && o->get("status").isInteger()) {
    auto st = o->get("status").convert<Poco::Int64>();
    if (st >= 100 && st <= 599) p.status = static_cast<int>(st);
  }
  if (o->isObject("identifier")) {
    auto id = optString(o->getObject("identifier"), "value", 255, r);
    if (!id) return std::unexpected(id.error());
    p.identifier = *id;
  }
  if (depth == 0 && o->isArray("subproblems")) {  // subproblems of subproblems are not a thing
    auto subs = o->getArray("subproblems");
    if (subs->size() > kMaxSubproblems) return r.bad("more than " + std::to_string(kMaxSubproblems) + " subproblems");
    for (unsigned i = 0; i < subs->size(); ++i) {
      if (!subs->isObject(i)) return r.bad("subproblems[" + std::to_string(i) + "] is not an object");
      auto sub = problemFrom(subs->getObject(i), r, depth + 1);
      if (!sub) return sub;
      p.subproblems.push_back(std::move(*sub));
    }
  }
  return p;
}

Result<std::optional<Problem>> optProblem(const Object::Ptr& o, const std::string& key, const Reading& r) {
  if (!o->has(key) || o->isNull(key)) return std::optional<Problem>();
  if (!o->isObject(key)) return r.bad("'" + key + "' is not a problem object");
  auto p = problemFrom(o->getObject(key), r, 0);
  if (!p) return std::unexpected(p.error());
  return std::optional<Problem>(std::move(*p));
}

bool printable(unsigned char c) { return c >= ' ' && c < 0x7f; }

}  // namespace

ProblemType problemType(const std::string& urn) {
  if (urn.rfind(kErrorPrefix, 0) != 0) return ProblemType::Other;
  const std::string shortType = urn.substr(std::string(kErrorPrefix).size());
  for (const auto& [name, type] : kProblemTypes)
    if (shortType == name) return type;
  return ProblemType::Other;
}

std::string excerpt(const std::string& body) {
  constexpr std::size_t kShown = 120;
  std::string out;
  for (std::size_t i = 0; i < body.size() && i < kShown; ++i) out += printable(body[i]) ? body[i] : '.';
  if (body.size() > kShown) out += "...";
  return out;
}

bool isBase64Url(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_'; });
}

Result<Directory> directory(const std::string& body) {
  Reading r{"ACME directory", body};
  auto obj = parseObject(r);
  if (!obj) return std::unexpected(obj.error());
  Directory d;
  std::pair<std::string*, const char*> required[] = {
      {&d.newNonce, "newNonce"}, {&d.newAccount, "newAccount"}, {&d.newOrder, "newOrder"}};
  for (auto& [field, key] : required) {
    auto u = url(*obj, key, true, r);
    if (!u) return std::unexpected(u.error());
    *field = *u;
  }
  std::pair<std::string*, const char*> optional[] = {{&d.revokeCert, "revokeCert"}, {&d.renewalInfo, "renewalInfo"}};
  for (auto& [field, key] : optional) {
    auto u = url(*obj, key, false, r);
    if (!u) return std::unexpected(u.error());
    *field = *u;
  }
  if ((*obj)->isObject("meta")) {
    auto meta = (*obj)->getObject("meta");
    if (meta->has("externalAccountRequired")) {
      auto v = meta->get("externalAccountRequired");
      if (!v.isBoolean()) return r.bad("'meta.externalAccountRequired' is not a boolean");
      d.externalAccountRequired = v.extract<bool>();
    }
    if (meta->isArray("caaIdentities")) {
      // They end up in the zone line dns-record prints: DNS names only, the rest passed over.
      auto ids = meta->getArray("caaIdentities");
      for (unsigned i = 0; i < ids->size() && i < kMaxChallenges; ++i)
        if (ids->get(i).isString())
          if (auto name = validateDomain(ids->get(i).extract<std::string>())) d.caaIdentities.push_back(*name);
    }
    if (meta->isObject("profiles")) {
      auto profiles = meta->getObject("profiles");
      if (profiles->size() > kMaxChallenges * 4) return r.bad("too many profiles");
      for (const auto& [name, _] : *profiles)
        if (name.size() <= 64) d.profiles.push_back(name);
    }
  }
  return d;
}

Result<Order> order(const std::string& body, const std::string& orderUrl, std::size_t identifiers) {
  Reading r{"order " + orderUrl, body};
  auto obj = parseObject(r);
  if (!obj) return std::unexpected(obj.error());
  Order o;
  o.url = orderUrl;
  auto st = status(*obj, kOrderStatuses, r);
  auto fin = url(*obj, "finalize", true, r);
  auto cert = url(*obj, "certificate", false, r);
  auto err = optProblem(*obj, "error", r);
  auto profile = optString(*obj, "profile", 64, r);
  auto replaces = optString(*obj, "replaces", 512, r);
  for (const Error* e : {st ? nullptr : &st.error(), fin ? nullptr : &fin.error(), cert ? nullptr : &cert.error(),
                         err ? nullptr : &err.error(), profile ? nullptr : &profile.error(),
                         replaces ? nullptr : &replaces.error()})
    if (e) return std::unexpected(*e);
  o.status = *st;
  o.finalize = *fin;
  o.certificate = *cert;
  o.error = *err;
  o.profile = *profile;
  o.replaces = *replaces;
  if (!(*obj)->isArray("authorizations")) return r.bad("'authorizations' is not an array");
  auto authz = (*obj)->getArray("authorizations");
  if (authz->size() > identifiers)
    return r.bad("it lists " + std::to_string(authz->size()) + " authorizations for " + std::to_string(identifiers) +
                 " names");
  for (unsigned i = 0; i < authz->size(); ++i) {
    auto v = authz->get(i);
    if (!v.isString()) return r.bad("authorizations[" + std::to_string(i) + "] is not a string");
    auto s = v.extract<std::string>();
    if (!isHttpsUrl(s)) return r.bad("authorizations[" + std::to_string(i) + "] is not an https URL");
    o.authorizations.push_back(s);
  }
  if (o.status == OrderStatus::Valid && o.certificate.empty()) return r.bad("a valid order without a certificate URL");
  return o;
}

// draft-ietf-acme-dns-persist-01: the names the record must give as its issuer.
Result<std::vector<std::string>> issuerNames(const Object::Ptr& ch, const Reading& r) {
  if (!ch->isArray("issuer-domain-names")) return r.bad("the dns-persist-01 challenge has no 'issuer-domain-names' array");
  auto names = ch->getArray("issuer-domain-names");
  if (names->size() == 0 || names->size() > kMaxChallenges) return r.bad("'issuer-domain-names' lists 0 or too many names");
  std::vector<std::string> out;
  for (unsigned i = 0; i < names->size(); ++i) {
    auto v = names->get(i);
    auto name = v.isString() ? validateDomain(v.extract<std::string>()) : fail("not a string");
    if (!name) return r.bad("issuer-domain-names[" + std::to_string(i) + "] is not a domain name");
    out.push_back(*name);
  }
  return out;
}

// One challenge of a kind sidecert answers, with its error if it has one; none
// for the other kinds.
using ReadChallenge = std::optional<std::pair<Challenge, std::optional<Problem>>>;
Result<ReadChallenge> challenge(const Object::Ptr& ch, const Reading& r) {
  auto type = needString(ch, "type", 64, r);
  if (!type) return std::unexpected(type.error());
  bool persist = *type == "dns-persist-01";
  if (*type != "http-01" && *type != "dns-01" && !persist) return ReadChallenge();
  auto chUrl = url(ch, "url", true, r);
  auto token = persist ? optString(ch, "token", kMaxToken, r) : needString(ch, "token", kMaxToken, r);
  auto chStatus = status(ch, kChallengeStatuses, r);
  auto chError = optProblem(ch, "error", r);
  auto account = optString(ch, "accounturi", 2048, r);
  for (const Error* e : {chUrl ? nullptr : &chUrl.error(), token ? nullptr : &token.error(),
                         chStatus ? nullptr : &chStatus.error(), chError ? nullptr : &chError.error(),
                         account ? nullptr : &account.error()})
    if (e) return std::unexpected(*e);
  Challenge c{*type, *chUrl, *token, *chStatus, *account, {}};
  if (persist) {
    auto issuers = issuerNames(ch, r);
    if (!issuers) return std::unexpected(issuers.error());
    c.issuerDomainNames = std::move(*issuers);
  } else if (token->size() < kMinToken || !isBase64Url(*token)) {
    return r.bad("the " + *type + " token is not base64url of " + std::to_string(kMinToken) + " to " +
                 std::to_string(kMaxToken) + " characters");
  }
  return ReadChallenge(std::pair{std::move(c), *chError});
}

Result<Authorization> authorization(const std::string& body, const std::string& authzUrl) {
  Reading r{"authorization " + authzUrl, body};
  auto obj = parseObject(r);
  if (!obj) return std::unexpected(obj.error());
  Authorization a;
  a.url = authzUrl;
  auto st = status(*obj, kAuthorizationStatuses, r);
  if (!st) return std::unexpected(st.error());
  a.status = *st;
  if (!(*obj)->isObject("identifier")) return r.bad("'identifier' is not an object");
  auto id = needString((*obj)->getObject("identifier"), "value", 255, r);
  if (!id) return std::unexpected(id.error());
  a.identifier = *id;
  if ((*obj)->has("wildcard")) {
    auto w = (*obj)->get("wildcard");
    if (!w.isBoolean()) return r.bad("'wildcard' is not a boolean");
    a.wildcard = w.extract<bool>();
  }
  if (!(*obj)->isArray("challenges")) return r.bad("'challenges' is not an array");
  auto chs = (*obj)->getArray("challenges");
  if (chs->size() > kMaxChallenges) return r.bad("more than " + std::to_string(kMaxChallenges) + " challenges");
  for (unsigned i = 0; i < chs->size(); ++i) {
    if (!chs->isObject(i)) return r.bad("challenges[" + std::to_string(i) + "] is not an object");
    auto ch = challenge(chs->getObject(i), r);
    if (!ch) return std::unexpected(ch.error());
    if (!*ch) continue;  // a kind sidecert does not answer: not read further
    if ((*ch)->second) a.error = *(*ch)->second;
    a.challenges.push_back(std::move((*ch)->first));
  }
  return a;
}

std::optional<Problem> problem(const std::string& body) {
  Reading r{"problem", body};
  auto obj = parseObject(r);
  if (!obj) return std::nullopt;
  auto p = problemFrom(*obj, r, 0);
  if (!p || p->type.empty()) return std::nullopt;
  return *p;
}

Result<RenewalInfo> renewalInfo(const std::string& body) {
  Reading r{"renewalInfo", body};
  auto obj = parseObject(r);
  if (!obj) return std::unexpected(obj.error());
  if (!(*obj)->isObject("suggestedWindow")) return r.bad("'suggestedWindow' is not an object");
  auto window = (*obj)->getObject("suggestedWindow");
  auto start = needString(window, "start", 64, r);
  auto end = needString(window, "end", 64, r);
  if (!start) return std::unexpected(start.error());
  if (!end) return std::unexpected(end.error());
  auto from = parseTime(*start), to = parseTime(*end);
  if (!from || !to || *to < *from) return r.bad("no usable suggestedWindow");
  auto explanation = optString(*obj, "explanationURL", kMaxUrl, r);
  if (!explanation) return std::unexpected(explanation.error());
  return RenewalInfo{*from, *to, std::chrono::seconds(0), *explanation};
}

Status account(const std::string& body) {
  if (body.empty()) return {};
  Reading r{"newAccount", body};
  auto obj = parseObject(r);
  if (!obj) return std::unexpected(obj.error());
  return {};
}

std::vector<std::string> alternateLinks(const std::vector<std::string>& linkHeaders) {
  std::vector<std::string> out;
  for (const auto& value : linkHeaders) {
    std::stringstream ss(value);
    for (std::string part; std::getline(ss, part, ',');) {
      if (out.size() >= kMaxAlternates) return out;
      auto lt = part.find('<'), gt = part.find('>');
      if (lt == std::string::npos || gt == std::string::npos || gt < lt) continue;
      if (part.find("rel=\"alternate\"") == std::string::npos && part.find("rel=alternate") == std::string::npos) continue;
      std::string link = part.substr(lt + 1, gt - lt - 1);
      if (isHttpsUrl(link)) out.push_back(link);
    }
  }
  return out;
}

std::chrono::seconds retryAfter(const std::string& value, TimePoint now) {
  if (value.empty()) return std::chrono::seconds(0);
  std::int64_t seconds = 0;
  if (std::all_of(value.begin(), value.end(), ::isdigit)) {
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec == std::errc::result_out_of_range) return kMaxRetryAfter;
    if (ec != std::errc() || end != value.data() + value.size()) return std::chrono::seconds(0);
  } else {
    try {
      int tz = 0;
      Poco::DateTime when = Poco::DateTimeParser::parse(value, tz);
      // Seconds since the epoch on both sides: no nanosecond arithmetic to overflow.
      std::int64_t at = when.timestamp().epochTime() - tz;
      seconds = at - toUnixSeconds(now);
    } catch (const Poco::Exception&) {
      return std::chrono::seconds(0);
    }
  }
  return std::chrono::seconds(std::clamp<std::int64_t>(seconds, 0, kMaxRetryAfter.count()));
}

}  // namespace sc::acme::wire

namespace sc::acme {

const char* statusName(OrderStatus s) { return wire::nameOf(wire::kOrderStatuses, s); }
const char* statusName(AuthorizationStatus s) { return wire::nameOf(wire::kAuthorizationStatuses, s); }
const char* statusName(ChallengeStatus s) { return wire::nameOf(wire::kChallengeStatuses, s); }

}  // namespace sc::acme
