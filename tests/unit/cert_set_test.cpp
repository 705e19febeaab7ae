// A set built from a key and certificates at hand (sources/cert_set.h) is the set
// its files would be read back as: the same key, leaf and chain.
#include "sources/cert_set.h"

#include <gtest/gtest.h>

#include "crypto/self_sign.h"
#include "lineage_fixture.h"

using namespace sc;

namespace {

crypto::Certificate selfSigned(const crypto::PrivateKey& key, const std::string& name) {
  auto cert = crypto::selfSign(key, {name}, t0, std::chrono::hours(24));
  EXPECT_TRUE(cert.has_value());
  return *cert;
}

void expectSameAsReadBack(const sources::CertSet& set) {
  auto read = sources::parseFiles(set.files);
  ASSERT_TRUE(read.has_value()) << read.error().message;
  EXPECT_EQ(read->key.toPem(), set.parsed.key.toPem());
  EXPECT_TRUE(read->leaf.sameAs(set.parsed.leaf));
  ASSERT_EQ(read->chain.size(), set.parsed.chain.size());
  for (std::size_t i = 0; i < read->chain.size(); ++i) EXPECT_TRUE(read->chain[i].sameAs(set.parsed.chain[i]));
}

}  // namespace

TEST(CertSetFrom, ASelfSignedSetIsWhatItsFilesReadBackAs) {
  for (KeyType type : {KeyType::Ec256, KeyType::Rsa2048}) {
    auto key = crypto::PrivateKey::generate(type);
    ASSERT_TRUE(key.has_value());
    auto set = sources::certSetFrom(*key, selfSigned(*key, "a.example.org"), {});
    ASSERT_TRUE(set.has_value());
    expectSameAsReadBack(*set);
    EXPECT_TRUE(set->parsed.chain.empty());
    EXPECT_EQ(set->files.chain, set->files.cert);  // a gateway that needs a CA file still starts
  }
}

TEST(CertSetFrom, AChainKeepsItsOrderAndDropsTheLeafRepeatedInIt) {
  auto key = crypto::PrivateKey::generate(KeyType::Ec256);
  auto ca1 = crypto::PrivateKey::generate(KeyType::Ec256);
  auto ca2 = crypto::PrivateKey::generate(KeyType::Ec256);
  ASSERT_TRUE(key && ca1 && ca2);
  const auto leaf = selfSigned(*key, "a.example.org");
  const std::vector<crypto::Certificate> chain{selfSigned(*ca1, "ca1.test"), leaf, selfSigned(*ca2, "ca2.test")};
  auto set = sources::certSetFrom(*key, leaf, chain);
  ASSERT_TRUE(set.has_value());
  expectSameAsReadBack(*set);
  ASSERT_EQ(set->parsed.chain.size(), 2u);
  EXPECT_TRUE(set->parsed.chain[0].sameAs(chain[0]));
  EXPECT_TRUE(set->parsed.chain[1].sameAs(chain[2]));
}

TEST(PrivateKeyShare, BothOwnersHoldTheSameKeyAndOutliveEachOther) {
  auto key = crypto::PrivateKey::generate(KeyType::Ec256);
  ASSERT_TRUE(key.has_value());
  const std::string pem = key->toPem();
  auto shared = key->share();
  ASSERT_TRUE(shared.has_value());
  EXPECT_EQ(shared->raw(), key->raw());
  key = crypto::PrivateKey::generate(KeyType::Ec256);  // the first owner lets go
  EXPECT_EQ(shared->toPem(), pem);
}
