// The challenge a lineage uses, and what the DNS challenges need.
#include <algorithm>
#include <functional>

#include "config/value_parsing.h"
#include "core/domain.h"
#include "core/time_format.h"
#include "dns/exchange.h"
#include "dns/message.h"

namespace sc::config {

namespace {

Status applyChallenge(Settings& s, const RawValue& v) {
  if (auto ok = needScalar(v); !ok) return ok;
  auto t = parseChallengeType(scalar(v));
  if (!t) return fail("'" + scalar(v) + "' is not a challenge (expected http-01, dns-persist-01 or dns-01)");
  s.challenge = *t;
  return {};
}

// ADDRESS[:PORT] of a DNS server: an IP address, not a name, since finding it
// would need DNS.
Status checkDnsServer(const std::string& text) {
  auto ok = dns::parseServer(text);
  if (!ok) return fail(ok.error().message + " (192.0.2.53, 192.0.2.53:5353, [2001:db8::53]:53)");
  return {};
}

Status applyResolvers(Settings& s, const RawValue& v) {
  s.dns.resolvers.clear();
  for (const auto& r : splitCommas(v)) {
    if (auto ok = checkDnsServer(r); !ok) return ok;
    s.dns.resolvers.push_back(r);
  }
  return {};
}

Status applyDnsServer(Settings& s, const RawValue& v) {
  if (auto ok = needScalar(v); !ok) return ok;
  if (!scalar(v).empty())
    if (auto ok = checkDnsServer(scalar(v)); !ok) return ok;
  s.dns.server = scalar(v);
  return {};
}

// A DNS name as given (the zone, the TSIG key's name, the issuer): checked, lower case.
Status applyDnsName(std::string DnsSettings::*field, Settings& s, const RawValue& v) {
  if (auto ok = needScalar(v); !ok) return ok;
  std::string name = scalar(v);
  if (!name.empty() && name.back() == '.') name.pop_back();
  if (!name.empty()) {
    auto ok = validateDomain(name);
    if (!ok) return std::unexpected(ok.error());
    name = *ok;
  }
  s.dns.*field = name;
  return {};
}

Status applyPersistUntil(Settings& s, const RawValue& v) {
  if (auto ok = needScalar(v); !ok) return ok;
  if (scalar(v).empty()) {
    s.dns.persistUntil.reset();
    return {};
  }
  auto t = parseTime(scalar(v));
  if (!t) return fail("'" + scalar(v) + "' is not a time as RFC 3339 writes it (2027-06-30T00:00:00Z)");
  s.dns.persistUntil = *t;
  return {};
}

// Only what ldns can sign with: a key it cannot use would pass here and fail at
// the first order's "sign the update".
Status applyTsigAlgorithm(Settings& s, const RawValue& v) {
  if (auto ok = needScalar(v); !ok) return ok;
  if (!dns::isTsigAlgorithm(scalar(v))) {
    std::string accepted;
    const std::size_t n = std::size(dns::kTsigAlgorithms);
    for (std::size_t i = 0; i < n; ++i)
      accepted += std::string(i == 0 ? "" : i + 1 == n ? " or " : ", ") + dns::kTsigAlgorithms[i];
    bool known = scalar(v) == "hmac-sha384" || scalar(v) == "hmac-sha224";  // RFC 4635's, which BIND makes
    return fail("'" + scalar(v) + "' is not a TSIG algorithm sidecert can sign with" +
                (known ? " (its DNS library, ldns, cannot)" : "") + ": expected " + accepted +
                " (make the key with tsig-keygen -a hmac-sha256)");
  }
  s.dns.tsigAlgorithm = scalar(v);
  return {};
}

// The secret as BIND's tsig-keygen writes it: base64. Its text is never repeated.
Status applyTsigSecretFile(Settings& s, const RawValue& v) {
  if (auto ok = needScalar(v); !ok) return ok;
  auto secret = readSecretFile(scalar(v));
  if (!secret) return std::unexpected(secret.error());
  bool base64 = std::all_of(secret->begin(), secret->end(),
                            [](unsigned char c) { return std::isalnum(c) || c == '+' || c == '/' || c == '='; });
  if (!base64 || secret->size() % 4 != 0)
    return fail("'" + scalar(v) + "' does not hold a base64 secret (as tsig-keygen's secret \"...\" line gives it)");
  s.dns.tsigSecret = *secret;
  return {};
}

}  // namespace

const std::vector<Setting>& challengeSettings() {
  using namespace std::placeholders;
  static const std::vector<Setting> table = {
      {"challenge", "SIDECERT_CHALLENGE", applyChallenge},
      {"dns_resolver", "SIDECERT_DNS_RESOLVER", applyResolvers},
      {"dns_persist_issuer", "SIDECERT_DNS_PERSIST_ISSUER", std::bind(applyDnsName, &DnsSettings::persistIssuer, _1, _2)},
      {"dns_persist_until", "SIDECERT_DNS_PERSIST_UNTIL", applyPersistUntil},
      {"dns_server", "SIDECERT_DNS_SERVER", applyDnsServer},
      {"dns_zone", "SIDECERT_DNS_ZONE", std::bind(applyDnsName, &DnsSettings::zone, _1, _2)},
      {"dns_tsig_key", "SIDECERT_DNS_TSIG_KEY", std::bind(applyDnsName, &DnsSettings::tsigKey, _1, _2)},
      {"dns_tsig_algorithm", "SIDECERT_DNS_TSIG_ALGORITHM", applyTsigAlgorithm},
      {"dns_tsig_secret_file", "SIDECERT_DNS_TSIG_SECRET_FILE", applyTsigSecretFile},
  };
  return table;
}

}  // namespace sc::config
