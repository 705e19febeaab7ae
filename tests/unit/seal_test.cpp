// crypto::seal and unseal (src/crypto/seal.cpp): the box Swarm mode keeps sets in.
#include <gtest/gtest.h>

#include <string>

#include "crypto/seal.h"

using namespace sc;

TEST(Seal, OpensOnlyWithTheSameKeyBytesAndContext) {
  std::string key(32, 'x');
  auto box = crypto::seal(key, "a private key", "lineage a, generation 3");
  ASSERT_TRUE(box);
  EXPECT_EQ(*crypto::unseal(key, *box, "lineage a, generation 3"), "a private key");
  EXPECT_FALSE(crypto::unseal(std::string(32, 'y'), *box, "lineage a, generation 3"));
  EXPECT_FALSE(crypto::unseal(key, *box, "lineage a, generation 4"));
  auto changed = *box;
  changed[changed.size() / 2] ^= 1;
  EXPECT_FALSE(crypto::unseal(key, changed, "lineage a, generation 3"));
  EXPECT_FALSE(crypto::unseal(key, box->substr(0, 10), "lineage a, generation 3"));
  EXPECT_FALSE(crypto::seal("short", "x", ""));
  EXPECT_NE(*crypto::seal(key, "same", ""), *crypto::seal(key, "same", ""));  // a fresh nonce each time
}
