#include "store/user_drops.h"

#include <filesystem>

#include <gtest/gtest.h>

#include "core/time_format.h"
#include "store/posix_fs.h"
#include "store/volume.h"
#include "test_support.h"

using namespace sc;
using namespace std::chrono;
using store::LiveView;

namespace {

const TimePoint t0 = fromUnixSeconds(1'800'000'000);

// Publishing checks nothing of the files: text stands in for PEM.
store::CertFiles fixedSet() { return {"KEY\n", "CERT\n", "CHAIN\n", "FULL\n"}; }

// A prepared volume in a temporary folder, and the user drops beside it.
struct UserDrops : ::testing::Test {
  TempDir dir;
  store::PosixFileSystem fs;
  store::Volume v{fs, dir.path(), dir.path("state"), "gw"};
  store::UserDrops drops{fs, v.layout()};
  void SetUp() override { ASSERT_TRUE(v.prepare()); }
};

}  // namespace

TEST_F(UserDrops, UserFilesGoToPendingAndAsideWithTheirBytes) {
  auto rec = v.publish(fixedSet(), store::Source::SelfSigned, t0);
  ASSERT_TRUE(rec);
  dir.write("live/gw/privkey.pem", "first");
  ASSERT_TRUE(drops.takeIntoPending("privkey.pem", "first", t0, true));
  ASSERT_TRUE(drops.takeIntoPending("privkey.pem", "second", t0, true));  // the first is superseded, kept
  EXPECT_EQ(drops.pending()->at("privkey.pem"), "second");
  auto moved = drops.movePendingAside("refused", t0);
  ASSERT_TRUE(moved);
  EXPECT_EQ(*fs.readFile(dir.path(*moved + "/privkey.pem")), "second");
  auto all = *fs.list(dir.path("aside"));
  EXPECT_EQ(all.size(), 2u);
  EXPECT_TRUE(drops.pending()->empty());
  // The live set lost its key to pending/; restoring puts ours back.
  ASSERT_TRUE(v.restoreFiles(*rec, {"privkey.pem"}));
  EXPECT_TRUE(v.inspect()->foreign.empty());
}

TEST_F(UserDrops, AFileKeptInPlaceIsCopiedNotMoved) {
  dir.write("live/gw/cert.pem", "mine");
  ASSERT_TRUE(drops.takeIntoPending("cert.pem", "mine", t0, false));
  EXPECT_EQ(dir.read("live/gw/cert.pem"), "mine");
  EXPECT_EQ(dir.read("state/pending/gw/cert.pem"), "mine");
  EXPECT_EQ(*drops.movePendingAside("accepted", t0 + hours(1)),
            "aside/" + formatTimeCompact(t0 + hours(1)) + "-accepted-gw");
  EXPECT_EQ(*drops.movePendingAside("accepted", t0 + hours(1)), "") << "nothing waits: no folder is made";
}

TEST_F(UserDrops, ALinkSomeoneElseMadeIsMovedAsideWholeItsTargetUntouched) {
  dir.write("elsewhere/cert.pem", "theirs");
  std::filesystem::create_symlink("../elsewhere", dir.path("live/gw"));
  auto view = v.inspect();
  ASSERT_TRUE(view);
  ASSERT_EQ(view->link, LiveView::Link::Foreign);
  ASSERT_TRUE(view->linkIsSymlink);
  auto moved = drops.moveLiveAside(*view, view->foreign, "replaced", t0);
  ASSERT_TRUE(moved) << moved.error().message;
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::symlink_status(dir.path("live/gw"))));
  EXPECT_EQ(std::filesystem::read_symlink(dir.path(*moved + "/gw")), "../elsewhere");
  EXPECT_EQ(dir.read("elsewhere/cert.pem"), "theirs");
}
