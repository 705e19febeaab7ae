#include "dns/message.h"

#include <ldns/ldns.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <memory>

namespace sc::dns {
namespace {

struct PktFree {
  void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
struct RdfFree {
  void operator()(ldns_rdf* r) const { ldns_rdf_deep_free(r); }
};
struct RrFree {
  void operator()(ldns_rr* r) const { ldns_rr_free(r); }
};
using Pkt = std::unique_ptr<ldns_pkt, PktFree>;
using Rdf = std::unique_ptr<ldns_rdf, RdfFree>;
using Rr = std::unique_ptr<ldns_rr, RrFree>;
struct RrListFree {
  void operator()(ldns_rr_list* l) const { ldns_rr_list_deep_free(l); }
};
using RrList = std::unique_ptr<ldns_rr_list, RrListFree>;

// CNAME chains within one answer are followed this far (resolvers stop at 8-16).
constexpr int kMaxCnameSteps = 8;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

Result<Rdf> dname(const std::string& name) {
  if (name.empty() || name.size() > 253) return fail("'" + name + "' is not a DNS name of 1 to 253 characters");
  Rdf r(ldns_dname_new_frm_str((name + ".").c_str()));
  if (!r) return fail("'" + name + "' is not a DNS name ldns can write");
  return r;
}

// An rdf as text, as ldns writes it (a name without its root dot, in lower case).
std::string text(const ldns_rdf* rdf) {
  char* s = ldns_rdf2str(rdf);
  if (!s) return "";
  std::string out = s;
  std::free(s);
  if (!out.empty() && out.back() == '.' && out != ".") out.pop_back();
  return lower(out);
}

Result<Outgoing> toWire(ldns_pkt* p) {
  std::uint8_t* buf = nullptr;
  std::size_t size = 0;
  if (ldns_pkt2wire(&buf, p, &size) != LDNS_STATUS_OK || !buf) return fail("write the DNS message");
  Outgoing out;
  out.wire.assign(buf, buf + size);
  std::free(buf);
  out.id = ldns_pkt_id(p);
  return out;
}

Result<Pkt> fromWire(const std::uint8_t* wire, std::size_t size, std::uint16_t id) {
  ldns_pkt* raw = nullptr;
  if (ldns_wire2pkt(&raw, wire, size) != LDNS_STATUS_OK || !raw)
    return failAs(ErrorKind::Protocol, "the DNS server's reply is not a DNS message");
  Pkt p(raw);
  if (!ldns_pkt_qr(p.get()) || ldns_pkt_id(p.get()) != id)
    return failAs(ErrorKind::Protocol, "the DNS server's reply answers another message (id or QR bit)");
  return p;
}

// The TXT record's strings, joined (each rdf is one <character-string>).
std::string txtValue(const ldns_rr* rr) {
  std::string v;
  for (std::size_t i = 0; i < ldns_rr_rd_count(rr); ++i) {
    const ldns_rdf* f = ldns_rr_rdf(rr, i);
    if (ldns_rdf_get_type(f) != LDNS_RDF_TYPE_STR || ldns_rdf_size(f) < 1) continue;
    const std::uint8_t* d = ldns_rdf_data(f);
    std::size_t n = std::min<std::size_t>(d[0], ldns_rdf_size(f) - 1);
    v.append(reinterpret_cast<const char*>(d + 1), n);
  }
  return v;
}

// The names the answer's records for `qname` may be under: it, and the CNAME
// targets reached from it within the answer section.
std::vector<std::string> aliasesOf(const std::string& qname, const ldns_rr_list* answer) {
  std::vector<std::string> names{lower(qname)};
  for (int step = 0; step < kMaxCnameSteps; ++step) {
    bool grew = false;
    for (std::size_t i = 0; i < ldns_rr_list_rr_count(answer); ++i) {
      const ldns_rr* rr = ldns_rr_list_rr(answer, i);
      if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_CNAME || ldns_rr_rd_count(rr) < 1) continue;
      if (std::find(names.begin(), names.end(), text(ldns_rr_owner(rr))) == names.end()) continue;
      std::string target = text(ldns_rr_rdf(rr, 0));
      if (std::find(names.begin(), names.end(), target) != names.end()) continue;
      names.push_back(target);
      grew = true;
    }
    if (!grew) break;
  }
  return names;
}

Status collect(const ldns_rr_list* section, const Question& q, const std::vector<std::string>& owners, Answer& a) {
  for (std::size_t i = 0; section && i < ldns_rr_list_rr_count(section); ++i) {
    const ldns_rr* rr = ldns_rr_list_rr(section, i);
    if (ldns_rr_get_type(rr) != static_cast<ldns_rr_type>(q.type)) continue;
    std::string owner = text(ldns_rr_owner(rr));
    // The SOA that says which zone a name is in is the zone's own, not the name's.
    if (q.type != RecordType::Soa && std::find(owners.begin(), owners.end(), owner) == owners.end()) continue;
    std::string value = q.type == RecordType::Txt ? txtValue(rr)
                        : q.type == RecordType::Soa ? owner
                        : ldns_rr_rd_count(rr) ? text(ldns_rr_rdf(rr, 0)) : "";
    if (value.size() > kMaxValueBytes)
      return failAs(ErrorKind::Protocol, "a " + std::to_string(value.size()) + "-byte record at " + owner + " (at most 4 KiB read)");
    if (a.values.size() == kMaxValues)
      return failAs(ErrorKind::Protocol, "more than 64 records answered for " + q.name);
    a.values.push_back(std::move(value));
  }
  return {};
}

}  // namespace

bool isTsigAlgorithm(const std::string& name) {
  return std::any_of(std::begin(kTsigAlgorithms), std::end(kTsigAlgorithms), [&](const char* a) { return name == a; });
}

std::string rcodeName(int rcode) {
  static const char* const names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
                                      "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE"};
  if (rcode >= 0 && rcode < static_cast<int>(std::size(names))) return names[rcode];
  return "RCODE " + std::to_string(rcode);
}

Result<Outgoing> buildQuery(const Question& q) {
  auto name = dname(q.name);
  if (!name) return std::unexpected(name.error());
  Pkt p(ldns_pkt_query_new(name->release(), static_cast<ldns_rr_type>(q.type), LDNS_RR_CLASS_IN,
                           q.recursionDesired ? LDNS_RD : 0));
  if (!p) return fail("build a DNS query for " + q.name);
  ldns_pkt_set_random_id(p.get());
  return toWire(p.get());
}

Result<Answer> parseAnswer(const std::uint8_t* wire, std::size_t size, std::uint16_t id, const Question& q) {
  auto p = fromWire(wire, size, id);
  if (!p) return std::unexpected(p.error());
  const ldns_rr_list* question = ldns_pkt_question(p->get());
  if (!question || ldns_rr_list_rr_count(question) != 1 ||
      text(ldns_rr_owner(ldns_rr_list_rr(question, 0))) != lower(q.name) ||
      ldns_rr_get_type(ldns_rr_list_rr(question, 0)) != static_cast<ldns_rr_type>(q.type))
    return failAs(ErrorKind::Protocol, "the DNS server's reply is about another question than " + q.name);
  Answer a;
  a.rcode = ldns_pkt_get_rcode(p->get());
  a.truncated = ldns_pkt_tc(p->get());
  a.authoritative = ldns_pkt_aa(p->get());
  if (a.truncated) return a;
  const ldns_rr_list* answer = ldns_pkt_answer(p->get());
  auto owners = answer ? aliasesOf(q.name, answer) : std::vector<std::string>{lower(q.name)};
  if (auto ok = collect(answer, q, owners, a); !ok) return std::unexpected(ok.error());
  if (q.type == RecordType::Soa && a.values.empty())
    if (auto ok = collect(ldns_pkt_authority(p->get()), q, owners, a); !ok) return std::unexpected(ok.error());
  return a;
}

Result<Outgoing> buildUpdate(const std::string& zone, const std::vector<TxtChange>& changes, std::uint32_t ttl,
                             const std::optional<TsigKey>& key) {
  auto z = dname(zone);
  if (!z) return std::unexpected(z.error());
  RrList updates(ldns_rr_list_new());
  if (!updates) return fail("build an update for " + zone);
  for (const auto& c : changes) {
    auto owner = dname(c.name);
    if (!owner) return std::unexpected(owner.error());
    Rr rr(ldns_rr_new());
    Rdf value(ldns_rdf_new_frm_str(LDNS_RDF_TYPE_STR, c.value.c_str()));
    if (!rr || !value) return fail("build the TXT record " + c.name + " for an update");
    ldns_rr_set_owner(rr.get(), owner->release());
    ldns_rr_set_type(rr.get(), LDNS_RR_TYPE_TXT);
    // RFC 2136 2.5.4: class NONE and TTL 0 delete this one record of the set.
    ldns_rr_set_class(rr.get(), c.add ? LDNS_RR_CLASS_IN : LDNS_RR_CLASS_NONE);
    ldns_rr_set_ttl(rr.get(), c.add ? ttl : 0);
    if (!ldns_rr_push_rdf(rr.get(), value.release())) return fail("build the TXT record " + c.name);
    if (!ldns_rr_list_push_rr(updates.get(), rr.release())) return fail("build an update for " + zone);
  }
  // The packet takes the zone's name and a copy of the updates.
  Pkt p(ldns_update_pkt_new(z->release(), LDNS_RR_CLASS_IN, nullptr, updates.get(), nullptr));
  if (!p) return fail("build an update for " + zone);
  ldns_pkt_set_random_id(p.get());
  Bytes mac;
  if (key) {
    if (!isTsigAlgorithm(key->algorithm))
      return fail("sign the update with the TSIG key " + key->name + ": ldns cannot sign with " + key->algorithm);
    // RFC 8945 6: hmac-md5's name on the wire is the long one.
    std::string algorithm = key->algorithm == "hmac-md5" ? "hmac-md5.sig-alg.reg.int." : key->algorithm + ".";
    // fudge: the 300 s of clock difference RFC 8945 6 recommends
    if (ldns_pkt_tsig_sign(p.get(), (key->name + ".").c_str(), key->secret.c_str(), 300, algorithm.c_str(), nullptr) !=
        LDNS_STATUS_OK)
      return fail("sign the update with the TSIG key " + key->name + " (" + key->algorithm + ")");
    const ldns_rr* tsig = ldns_pkt_tsig(p.get());
    if (!tsig || ldns_rr_rd_count(tsig) < 4) return fail("sign the update with the TSIG key " + key->name);
    const ldns_rdf* m = ldns_rr_rdf(tsig, 3);
    mac.assign(ldns_rdf_data(m), ldns_rdf_data(m) + ldns_rdf_size(m));
  }
  auto out = toWire(p.get());
  if (out) out->requestMac = std::move(mac);
  return out;
}

Status parseUpdateReply(const std::uint8_t* wire, std::size_t size, const Outgoing& sent,
                        const std::optional<TsigKey>& key) {
  auto p = fromWire(wire, size, sent.id);
  if (!p) return std::unexpected(p.error());
  int rcode = ldns_pkt_get_rcode(p->get());
  if (rcode == LDNS_RCODE_NOTAUTH)
    return fail("the DNS server refused the update (NOTAUTH): " +
                std::string(key ? "it does not accept the TSIG key " + key->name + " or its secret, or is not "
                                  "authoritative for the zone"
                                : "it wants a TSIG key (SIDECERT_DNS_TSIG_KEY)"));
  if (rcode != LDNS_RCODE_NOERROR) return fail("the DNS server refused the update: " + rcodeName(rcode));
  if (key) {
    Rdf mac(ldns_rdf_new_frm_data(LDNS_RDF_TYPE_INT16_DATA, sent.requestMac.size(), sent.requestMac.data()));
    if (!mac || !ldns_pkt_tsig_verify(p->get(), wire, size, (key->name + ".").c_str(), key->secret.c_str(), mac.get()))
      return failAs(ErrorKind::Protocol, "the DNS server's reply to the update is not signed with the TSIG key " + key->name);
  }
  return {};
}

}  // namespace sc::dns
