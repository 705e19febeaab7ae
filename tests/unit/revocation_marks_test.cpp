#include "store/revocation_marks.h"

#include <gtest/gtest.h>

#include "core/time_format.h"
#include "store/posix_fs.h"
#include "test_support.h"

using namespace sc;
using namespace std::chrono;

namespace {
const TimePoint t0 = fromUnixSeconds(1'800'000'000);
}  // namespace

TEST(RevocationMarks, AMarkedSetIsRevokedAndMarkingAgainMovesTheTime) {
  TempDir dir;
  store::PosixFileSystem fs;
  store::RevocationMarks marks(fs, {dir.path(), dir.path("state"), "gw"});
  dir.write("state/sets/gw/set-000001/meta.json", "{}");
  dir.write("state/sets/gw/set-000002/meta.json", "{}");
  EXPECT_FALSE(marks.isRevoked("set-000001"));
  ASSERT_TRUE(marks.mark("set-000001", t0));
  EXPECT_TRUE(marks.isRevoked("set-000001"));
  EXPECT_FALSE(marks.isRevoked("set-000002"));
  ASSERT_TRUE(marks.mark("set-000001", t0 + hours(1)));
  EXPECT_EQ(dir.read("state/sets/gw/set-000001/revoked"), formatTime(t0 + hours(1)) + "\n");
}

TEST(RevocationMarks, MarkingASetWeNeverWroteFailsAndSaysWhich) {
  TempDir dir;
  store::PosixFileSystem fs;
  store::RevocationMarks marks(fs, {dir.path(), dir.path("state"), "gw"});
  auto marked = marks.mark("set-000009", t0);
  ASSERT_FALSE(marked);
  EXPECT_NE(marked.error().message.find("mark set-000009 revoked"), std::string::npos) << marked.error().message;
}
