#include "core/time_format.h"
#include "sources/user_source.h"

#include <gtest/gtest.h>

#include "crypto/self_sign.h"

using namespace sc;
using namespace std::chrono;
using Kind = sources::UserVerdict::Kind;

namespace {

const TimePoint t0 = fromUnixSeconds(1'800'000'000);
const std::vector<std::string> kNames = {"a.test", "www.a.test"};

struct Made {
  std::string key, cert;
};

Made make(const std::vector<std::string>& names, TimePoint from = t0, hours life = hours(24 * 60)) {
  auto key = crypto::PrivateKey::generate(KeyType::Ec256);
  auto cert = crypto::selfSign(*key, names, from, life);
  return {key->toPem(), cert->toPem()};
}

sources::UserVerdict judge(const std::map<std::string, std::string>& dropped,
                           const std::optional<store::CertFiles>& current = std::nullopt, TimePoint now = t0) {
  return sources::judgeUserFiles(dropped, current, kNames, now);
}

}  // namespace

TEST(UserSource, AcceptsAValidSetAndKeepsTheKeyBytes) {
  auto m = make(kNames);
  auto v = judge({{"privkey.pem", m.key}, {"cert.pem", m.cert}});
  ASSERT_EQ(v.kind, Kind::Accept) << v.reason;
  EXPECT_EQ(v.set->files.privkey, m.key);
  EXPECT_EQ(v.set->files.cert, m.cert);
  EXPECT_EQ(v.set->files.chain, m.cert);  // no intermediates: chain.pem is the certificate
}

TEST(UserSource, RefusesEachKindOfBadInputWithItsReason) {
  auto good = make(kNames);
  auto other = make(kNames);
  auto wrongName = make({"b.test"});
  auto expired = make(kNames, t0 - hours(24 * 100), hours(24 * 90));
  auto future = make(kNames, t0 + hours(24 * 2), hours(24 * 90));
  const std::vector<std::pair<std::map<std::string, std::string>, std::string>> cases = {
      {{{"cert.pem", good.cert}}, "privkey.pem is missing"},
      {{{"privkey.pem", good.key}}, "cert.pem is missing"},
      {{{"privkey.pem", "garbage"}, {"cert.pem", good.cert}}, "privkey.pem: no PEM private key in it"},
      {{{"privkey.pem", good.key}, {"cert.pem", "garbage"}}, "cert.pem: no PEM certificate in it"},
      {{{"privkey.pem", other.key}, {"cert.pem", good.cert}}, "privkey.pem does not match the certificate in cert.pem"},
      {{{"privkey.pem", wrongName.key}, {"cert.pem", wrongName.cert}},
       "the certificate does not cover a.test,www.a.test (it is for b.test)"},
      {{{"privkey.pem", expired.key}, {"cert.pem", expired.cert}}, "the certificate expired on 2027-01-05T08:00:00Z"},
      {{{"privkey.pem", future.key}, {"cert.pem", future.cert}}, "the certificate is not valid before 2027-01-17T07:00:00Z"},
      {{{"privkey.pem", good.key}, {"cert.pem", good.cert}, {"chain.pem", other.cert}},
       "chain.pem does not link to the certificate"},
      {{{"privkey.pem", "-----BEGIN ENCRYPTED PRIVATE KEY-----\nx\n-----END ENCRYPTED PRIVATE KEY-----\n"},
        {"cert.pem", good.cert}},
       "privkey.pem: the key is encrypted"},
  };
  for (const auto& [dropped, reason] : cases) {
    auto v = judge(dropped);
    EXPECT_EQ(v.kind, Kind::Refuse) << reason;
    EXPECT_EQ(v.reason.substr(0, reason.size()), reason);
  }
}

TEST(UserSource, HalfASetThatDoesNotMatchWhatIsInPlaceIsIncomplete) {
  auto inPlace = make(kNames);
  store::CertFiles current{inPlace.key, inPlace.cert, inPlace.cert, inPlace.cert};
  auto fresh = make(kNames);
  auto keyOnly = judge({{"privkey.pem", fresh.key}}, current);
  EXPECT_EQ(keyOnly.kind, Kind::Incomplete);
  EXPECT_EQ(keyOnly.awaited, "cert.pem");
  auto certOnly = judge({{"cert.pem", fresh.cert}}, current);
  EXPECT_EQ(certOnly.kind, Kind::Incomplete);
  EXPECT_EQ(certOnly.awaited, "privkey.pem");
  // Both halves dropped and still mismatched: that is a refusal, not a wait.
  EXPECT_EQ(judge({{"privkey.pem", fresh.key}, {"cert.pem", inPlace.cert}}, current).kind, Kind::Refuse);
}

TEST(UserSource, ARenewedCertificateAloneForTheSameKeyIsAWholeSet) {
  auto key = crypto::PrivateKey::generate(KeyType::Ec256);
  auto old = crypto::selfSign(*key, kNames, t0 - hours(24 * 80), hours(24 * 90));
  auto renewed = crypto::selfSign(*key, kNames, t0, hours(24 * 90));
  store::CertFiles current{key->toPem(), old->toPem(), old->toPem(), old->toPem()};
  auto v = judge({{"cert.pem", renewed->toPem()}}, current);
  ASSERT_EQ(v.kind, Kind::Accept) << v.reason;
  EXPECT_EQ(v.set->files.cert, renewed->toPem());
}

TEST(UserSource, FullchainAloneGivesLeafAndChain) {
  auto m = make(kNames);
  auto v = judge({{"privkey.pem", m.key}, {"fullchain.pem", m.cert}});
  ASSERT_EQ(v.kind, Kind::Accept) << v.reason;
  EXPECT_EQ(v.set->files.cert, m.cert);
}
