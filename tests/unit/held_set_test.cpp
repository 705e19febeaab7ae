#include "store/held_set.h"

#include <gtest/gtest.h>

#include "store/posix_fs.h"
#include "test_support.h"

using namespace sc;

namespace {

store::VolumeLayout layoutIn(const TempDir& dir) { return {dir.path(), dir.path("state"), "gw"}; }

store::CertFiles fixedSet(const std::string& tag) {
  return {"KEY " + tag + "\n", "CERT " + tag + "\n", "CHAIN " + tag + "\n", "FULL " + tag + "\n"};
}

}  // namespace

TEST(HeldSet, NoneHeldIsNoError) {
  TempDir dir;
  store::PosixFileSystem fs;
  store::HeldSet held(fs, layoutIn(dir));
  auto none = held.held();
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_FALSE(*none);
  EXPECT_TRUE(held.release()) << "releasing nothing is no error";
}

TEST(HeldSet, AHeldSetIsReadBackAndReplacedWhole) {
  TempDir dir;
  store::PosixFileSystem fs;
  store::HeldSet held(fs, layoutIn(dir));
  ASSERT_TRUE(fs.makeDir(dir.path("state"), 0700));
  ASSERT_TRUE(fs.makeDir(dir.path("state/held"), 0700));
  ASSERT_TRUE(held.hold(fixedSet("1"), store::Source::Acme));
  ASSERT_TRUE(held.hold(fixedSet("2"), store::Source::SelfSigned));
  auto got = held.held();
  ASSERT_TRUE(got && *got);
  EXPECT_EQ((*got)->first, store::Source::SelfSigned);
  EXPECT_EQ((*got)->second.privkey, "KEY 2\n");
  EXPECT_EQ((*got)->second.fullchain, "FULL 2\n");
  ASSERT_TRUE(held.release());
  EXPECT_FALSE(*held.held());
}

TEST(HeldSet, AMetaWithoutASourceIsAnErrorThatNamesTheLineage) {
  TempDir dir;
  store::PosixFileSystem fs;
  store::HeldSet held(fs, layoutIn(dir));
  dir.write("state/held/gw/meta.json", "{}");
  auto got = held.held();
  ASSERT_FALSE(got);
  EXPECT_NE(got.error().message.find("the set held for gw"), std::string::npos) << got.error().message;
}
