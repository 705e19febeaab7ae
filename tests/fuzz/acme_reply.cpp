// Every CA reply parser, fed hostile bytes: no crash, no exception, and what comes
// out obeys the bounds acme/wire promises. The first byte picks the parser.
#include <cstdint>
#include <string>
#include <vector>

#include "acme/client.h"
#include "acme/wire.h"
#include "fuzz_check.h"

using namespace sc::acme;

namespace {

bool httpsUrl(const std::string& s) { return s.size() <= wire::kMaxUrl && s.rfind("https://", 0) == 0; }

void checkOrder(const std::string& body, std::size_t identifiers) {
  auto o = wire::order(body, "https://ca.test/order/1", identifiers);
  if (!o) return;
  FUZZ_CHECK(o->authorizations.size() <= identifiers);
  for (const auto& a : o->authorizations) FUZZ_CHECK(httpsUrl(a));
  FUZZ_CHECK(o->finalize.empty() || httpsUrl(o->finalize));
}

void checkAuthorization(const std::string& body) {
  auto a = wire::authorization(body, "https://ca.test/authz/1");
  if (!a) return;
  FUZZ_CHECK(a->challenges.size() <= wire::kMaxChallenges);
  for (const auto& c : a->challenges) {
    if (c.type != "http-01") continue;
    FUZZ_CHECK(wire::isBase64Url(c.token) && c.token.size() >= wire::kMinToken && c.token.size() <= wire::kMaxToken);
    FUZZ_CHECK(httpsUrl(c.url));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 8) {
    case 0: {
      auto d = wire::directory(body);
      if (d) FUZZ_CHECK(httpsUrl(d->newOrder) && httpsUrl(d->newNonce) && httpsUrl(d->newAccount));
      break;
    }
    case 1: checkOrder(body, 1 + data[0] / 8 % 4); break;
    case 2: checkAuthorization(body); break;
    case 3: (void)wire::problem(body); break;
    case 4: (void)wire::renewalInfo(body); break;
    case 5: (void)wire::account(body); break;
    case 6: {
      auto wait = wire::retryAfter(body, sc::TimePoint(std::chrono::seconds(1'800'000'000)));
      FUZZ_CHECK(wait.count() >= 0 && wait <= wire::kMaxRetryAfter);
      break;
    }
    case 7: {
      std::vector<std::string> headers;
      for (std::size_t at = 0, nl; at <= body.size(); at = nl + 1) {
        nl = body.find('\n', at);
        if (nl == std::string::npos) nl = body.size();
        headers.push_back(body.substr(at, nl - at));
      }
      auto links = wire::alternateLinks(headers);
      FUZZ_CHECK(links.size() <= wire::kMaxAlternates);
      for (const auto& l : links) FUZZ_CHECK(httpsUrl(l));
      HttpResponse r;
      r.status = 400;
      r.body = body;
      (void)parseProblem(r);
      break;
    }
  }
  return 0;
}
