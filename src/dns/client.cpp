#include "dns/client.h"

#include <ldns/ldns.h>

#include <algorithm>
#include <cstdlib>

namespace sc::dns {
namespace {

// The challenge records live for minutes: a short TTL keeps resolvers from
// holding on to a removed one.
constexpr std::uint32_t kChallengeTtl = 60;

bool isTransient(const Error& e) { return !e.is(ErrorKind::Cancelled); }

}  // namespace

Client::Client(std::vector<Server> resolvers, int stopFd, Timing timing)
    : resolvers_(std::move(resolvers)), stopFd_(stopFd), timing_(timing) {}

Result<std::vector<Server>> Client::systemResolvers(const std::string& file) {
  ldns_resolver* r = nullptr;
  if (ldns_resolver_new_frm_file(&r, file.c_str()) != LDNS_STATUS_OK || !r)
    return fail("read the resolvers of " + file + ": set SIDECERT_DNS_RESOLVER");
  std::vector<Server> out;
  ldns_rdf** ns = ldns_resolver_nameservers(r);
  for (std::size_t i = 0; i < ldns_resolver_nameserver_count(r); ++i) {
    char* text = ldns_rdf2str(ns[i]);
    if (!text) continue;
    if (auto s = parseServer(std::string(text).find(':') != std::string::npos ? "[" + std::string(text) + "]" : text))
      out.push_back(*s);
    std::free(text);
  }
  ldns_resolver_deep_free(r);
  if (out.empty()) return fail(file + " names no nameserver: set SIDECERT_DNS_RESOLVER");
  return out;
}

namespace {

// What is left of the time until `by`, at most `cap`; zero when none is.
std::chrono::milliseconds timeLeft(Client::Deadline by, std::chrono::milliseconds cap) {
  if (by == Client::Deadline::max()) return cap;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(by - std::chrono::steady_clock::now());
  return std::clamp(left, std::chrono::milliseconds(0), cap);
}

}  // namespace

Result<Answer> Client::ask(const Question& q, const Server& at, Deadline by) {
  Error last;
  last.message = "no time left to ask";
  for (int attempt = 0; attempt < timing_.triesPerServer; ++attempt) {
    auto wait = timeLeft(by, timing_.perTry);
    if (wait.count() == 0) break;
    auto query = buildQuery(q);
    if (!query) return std::unexpected(query.error());
    Result<Answer> answer = failAs(ErrorKind::Protocol, "no answer");
    auto accept = [&](const Bytes& reply) {
      answer = parseAnswer(reply.data(), reply.size(), query->id, q);
      return answer.has_value();
    };
    auto reply = exchange(at, query->wire, Transport::Udp, wait, stopFd_, accept);
    if (reply && answer->truncated)
      reply = exchange(at, query->wire, Transport::Tcp, std::max(timeLeft(by, timing_.perTry), std::chrono::milliseconds(1)),
                       stopFd_, accept);
    if (reply && answer) return answer;
    last = reply ? answer.error() : reply.error();
    if (!isTransient(last)) break;
  }
  last.message = "ask " + at.describe() + " for " + q.name + ": " + last.message;
  return std::unexpected(last);
}

Result<Answer> Client::askResolvers(const Question& q, Deadline by) {
  if (resolvers_.empty()) return fail("no DNS resolver to ask for " + q.name);
  Error last;
  for (const auto& r : resolvers_) {
    auto a = ask(q, r, by);
    // SERVFAIL and REFUSED are the resolver's trouble: the next one may answer.
    if (a && a->rcode != 2 && a->rcode != 5) return a;
    if (!a && a.error().is(ErrorKind::Cancelled)) return a;
    if (a) last.message = "ask " + r.describe() + " for " + q.name + ": " + rcodeName(a->rcode);
    else last = a.error();
  }
  return std::unexpected(last);
}

Result<std::vector<std::string>> Client::txt(const std::string& name) {
  auto a = askResolvers({name, RecordType::Txt, true});
  if (!a) return std::unexpected(a.error());
  if (a->rcode != 0 && a->rcode != 3) return fail("ask for " + name + ": " + rcodeName(a->rcode));
  return a->values;
}

Result<Answer> Client::txtAt(const Server& at, const std::string& name) {
  auto a = ask({name, RecordType::Txt, false}, at);
  if (!a) return std::unexpected(a.error());
  if (a->rcode != 0 && a->rcode != 3) return fail("ask " + at.describe() + " for " + name + ": " + rcodeName(a->rcode));
  return a;
}

Result<std::string> Client::zoneOf(const std::string& name) {
  auto a = askResolvers({name, RecordType::Soa, true});
  if (!a) return std::unexpected(a.error());
  if (a->values.empty())
    return fail("no SOA record answers for " + name + " (" + rcodeName(a->rcode) + "): set SIDECERT_DNS_ZONE");
  return a->values.front();
}

Result<std::vector<Server>> Client::addressesOf(const std::string& host, int port, Deadline by) {
  std::vector<Server> out;
  std::string why;
  for (auto type : {RecordType::A, RecordType::Aaaa}) {
    auto addrs = askResolvers({host, type, true}, by);
    if (!addrs && addrs.error().is(ErrorKind::Cancelled)) return std::unexpected(addrs.error());
    if (!addrs) {
      why += (why.empty() ? "" : "; ") + addrs.error().message;
      continue;
    }
    for (const auto& a : addrs->values)
      if (auto s = parseServer(type == RecordType::Aaaa ? "[" + a + "]:" + std::to_string(port)
                                                        : a + ":" + std::to_string(port)))
        out.push_back(*s);
    if (addrs->values.empty() && addrs->rcode != 0) why += (why.empty() ? "" : "; ") + rcodeName(addrs->rcode);
  }
  if (out.empty()) return fail(host + ": no A or AAAA record" + (why.empty() ? "" : " (" + why + ")"));
  return out;
}

Result<ZoneServers> Client::authoritativeServers(const std::string& zone, std::chrono::milliseconds budget, int port) {
  const Deadline by = std::chrono::steady_clock::now() + budget;
  auto ns = askResolvers({zone, RecordType::Ns, true}, by);
  if (!ns) return wrap("find the zone " + zone + "'s name servers", ns.error());
  if (ns->values.empty()) return fail("the zone " + zone + " has no NS record (" + rcodeName(ns->rcode) + ")");
  ZoneServers out;
  for (const auto& host : ns->values) {
    if (timeLeft(by, timing_.perTry).count() == 0) {
      out.unresolved.push_back(host + ": not looked up, no time left of the propagation timeout");
      continue;
    }
    auto addrs = addressesOf(host, port, by);
    if (!addrs && addrs.error().is(ErrorKind::Cancelled)) return std::unexpected(addrs.error());
    if (!addrs) out.unresolved.push_back(addrs.error().message);
    else out.servers.insert(out.servers.end(), addrs->begin(), addrs->end());
  }
  return out;
}

Status Client::update(const Server& at, const std::string& zone, const std::vector<TxtChange>& changes,
                      const std::optional<TsigKey>& key) {
  auto message = buildUpdate(zone, changes, kChallengeTtl, key);
  if (!message) return std::unexpected(message.error());
  Status verdict = fail("no reply");
  auto accept = [&](const Bytes& reply) {
    verdict = parseUpdateReply(reply.data(), reply.size(), *message, key);
    return true;
  };
  auto reply = exchange(at, message->wire, Transport::Tcp, timing_.perTry * timing_.triesPerServer, stopFd_, accept);
  if (!reply) return wrap("update the zone " + zone + " at " + at.describe(), reply.error());
  if (!verdict) return wrap("update the zone " + zone + " at " + at.describe(), verdict.error());
  return {};
}

}  // namespace sc::dns
