// The volume's layout is a contract (CONTRACT.md "The volume"): every piece that
// writes in it (published sets, user drops, the held reserve, revocation marks)
// is run once here, and the whole tree is compared, entry by entry, with modes,
// link targets and bytes, against the layout the contract and DESIGN.md describe.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/time_format.h"
#include "store/held_set.h"
#include "store/posix_fs.h"
#include "store/revocation_marks.h"
#include "store/user_drops.h"
#include "store/volume.h"
#include "test_support.h"

using namespace sc;
using namespace std::chrono;
namespace fsys = std::filesystem;

namespace {

const TimePoint t0 = fromUnixSeconds(1'800'000'000);

store::CertFiles fixedSet(const std::string& tag) {
  return {"KEY " + tag + "\n", "CERT " + tag + "\n", "CHAIN " + tag + "\n", "FULL " + tag + "\n"};
}

// A user's file, with a mode that does not depend on the umask.
void userWrite(const TempDir& dir, const std::string& rel, const std::string& text) {
  dir.write(rel, text);
  fsys::permissions(dir.path(rel), fsys::perms(0644));
}

std::string readAll(const fsys::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string escaped(const std::string& bytes) {
  std::string out;
  for (char c : bytes) out += c == '\n' ? std::string("\\n") : std::string(1, c);
  return out;
}

// One line an entry: its path, kind and mode, then a link's target or a file's bytes.
std::string listing(const std::string& root) {
  std::vector<std::string> lines;
  for (auto it = fsys::recursive_directory_iterator(root); it != fsys::recursive_directory_iterator(); ++it) {
    struct stat st{};
    if (::lstat(it->path().c_str(), &st) != 0) return "lstat failed: " + it->path().string();
    std::ostringstream line;
    line << it->path().lexically_relative(root).string() << " " << std::oct << (st.st_mode & 07777) << " ";
    if (S_ISLNK(st.st_mode)) line << "-> " << fsys::read_symlink(it->path()).string();
    else if (S_ISDIR(st.st_mode)) line << "dir";
    else line << escaped(readAll(it->path()));
    lines.push_back(line.str());
  }
  std::sort(lines.begin(), lines.end());
  std::string all;
  for (const auto& l : lines) all += l + "\n";
  return all;
}

// The tree exerciseEveryPiece leaves, as sidecert has always written it. A change
// here is a change to the contract: gateways and older sidecerts read this layout.
const char* const kExpectedTree = R"(archive 755 dir
archive/folder 755 dir
archive/folder/set-000001 755 dir
archive/folder/set-000001/cert.pem 644 CERT f\n
archive/folder/set-000001/chain.pem 644 CHAIN f\n
archive/folder/set-000001/combined.pem 640 KEY f\nFULL f\n
archive/folder/set-000001/fullchain.pem 644 FULL f\n
archive/folder/set-000001/privkey.pem 640 KEY f\n
archive/gw 755 dir
archive/gw/set-000001 755 dir
archive/gw/set-000001/cert.pem 644 CERT 1\n
archive/gw/set-000001/chain.pem 644 CHAIN 1\n
archive/gw/set-000001/combined.pem 640 KEY 1\nFULL 1\n
archive/gw/set-000001/fullchain.pem 644 FULL 1\n
archive/gw/set-000001/privkey.pem 640 KEY 1\n
archive/gw/set-000002 755 dir
archive/gw/set-000002/cert.pem 644 CERT 2\n
archive/gw/set-000002/chain.pem 644 CHAIN 2\n
archive/gw/set-000002/combined.pem 640 KEY 2\nFULL 2\n
archive/gw/set-000002/fullchain.pem 644 FULL 2\n
archive/gw/set-000002/privkey.pem 640 KEY 2\n
archive/mine 755 dir
aside 700 dir
aside/20270115T100000Z-superseded-gw 700 dir
aside/20270115T100000Z-superseded-gw/cert.pem 600 USER CERT 1\n
aside/20270115T110000Z-refused-gw 700 dir
aside/20270115T110000Z-refused-gw/cert.pem 600 USER CERT 2\n
aside/20270115T110000Z-refused-gw/chain.pem 600 USER CHAIN\n
aside/20270115T130000Z-unusable-gw 700 dir
aside/20270115T130000Z-unusable-gw/cert.pem 600 CERT bad\n
aside/20270115T130000Z-unusable-gw/chain.pem 600 CHAIN bad\n
aside/20270115T130000Z-unusable-gw/fullchain.pem 600 FULL bad\n
aside/20270115T130000Z-unusable-gw/privkey.pem 600 KEY bad\n
aside/20270115T140000Z-replaced-folder 700 dir
aside/20270115T140000Z-replaced-folder/folder 755 dir
aside/20270115T140000Z-replaced-folder/folder/cert.pem 644 USER FOLDER CERT\n
aside/20270115T150000Z-replaced-mine 700 dir
aside/20270115T150000Z-replaced-mine/cert.pem 644 MINE\n
live 755 dir
live/folder 777 -> ../archive/folder/set-000001
live/gw 777 -> ../archive/gw/set-000002
live/mine 755 dir
state 700 dir
state/held 700 dir
state/held/gw 700 dir
state/held/gw/cert.pem 644 CERT held\n
state/held/gw/chain.pem 644 CHAIN held\n
state/held/gw/combined.pem 640 KEY held\nFULL held\n
state/held/gw/fullchain.pem 644 FULL held\n
state/held/gw/meta.json 600 {"source":"acme","published":"1970-01-01T00:00:00Z"}
state/held/gw/privkey.pem 640 KEY held\n
state/pending 700 dir
state/pending/gw 700 dir
state/sets 700 dir
state/sets/folder 700 dir
state/sets/folder/set-000001 700 dir
state/sets/folder/set-000001/cert.pem 644 CERT f\n
state/sets/folder/set-000001/chain.pem 644 CHAIN f\n
state/sets/folder/set-000001/combined.pem 640 KEY f\nFULL f\n
state/sets/folder/set-000001/fullchain.pem 644 FULL f\n
state/sets/folder/set-000001/meta.json 600 {"source":"self-signed","published":"2027-01-15T14:00:00Z"}
state/sets/folder/set-000001/privkey.pem 640 KEY f\n
state/sets/gw 700 dir
state/sets/gw/set-000001 700 dir
state/sets/gw/set-000001/cert.pem 644 CERT 1\n
state/sets/gw/set-000001/chain.pem 644 CHAIN 1\n
state/sets/gw/set-000001/combined.pem 640 KEY 1\nFULL 1\n
state/sets/gw/set-000001/fullchain.pem 644 FULL 1\n
state/sets/gw/set-000001/meta.json 600 {"source":"acme","published":"2027-01-15T08:00:00Z"}
state/sets/gw/set-000001/privkey.pem 640 KEY 1\n
state/sets/gw/set-000002 700 dir
state/sets/gw/set-000002/cert.pem 644 CERT 2\n
state/sets/gw/set-000002/chain.pem 644 CHAIN 2\n
state/sets/gw/set-000002/combined.pem 640 KEY 2\nFULL 2\n
state/sets/gw/set-000002/fullchain.pem 644 FULL 2\n
state/sets/gw/set-000002/meta.json 600 {"source":"self-signed","published":"2027-01-15T09:00:00Z"}
state/sets/gw/set-000002/privkey.pem 640 KEY 2\n
state/sets/gw/set-000002/revoked 600 2027-01-15T12:00:00Z\n
state/sets/mine 700 dir
)";

// Every write each piece can make, at fixed times and with fixed bytes.
void exerciseEveryPiece(const TempDir& dir) {
  store::PosixFileSystem fs;
  store::Publishing publishing;
  publishing.keyGroup = ::getegid();  // a group of our own: no root needed, and the key 0640
  store::Volume gw(fs, dir.path(), dir.path("state"), "gw", publishing);
  store::UserDrops gwDrops(fs, gw.layout());
  store::HeldSet gwHeld(fs, gw.layout(), publishing);
  store::RevocationMarks gwMarks(fs, gw.layout());
  ASSERT_TRUE(gw.prepare());
  auto first = gw.publish(fixedSet("1"), store::Source::Acme, t0);
  ASSERT_TRUE(first);
  auto second = gw.publish(fixedSet("2"), store::Source::SelfSigned, t0 + hours(1));
  ASSERT_TRUE(second);
  // a user drops a certificate, twice (the first is superseded), and a key
  userWrite(dir, "live/gw/cert.pem", "USER CERT 1\n");
  ASSERT_TRUE(gwDrops.takeIntoPending("cert.pem", "USER CERT 1\n", t0 + hours(2), true));
  ASSERT_TRUE(gwDrops.takeIntoPending("cert.pem", "USER CERT 2\n", t0 + hours(2), true));
  ASSERT_TRUE(gwDrops.takeIntoPending("chain.pem", "USER CHAIN\n", t0 + hours(2), false));
  auto refused = gwDrops.movePendingAside("refused", t0 + hours(3));
  ASSERT_TRUE(refused);
  EXPECT_EQ(*refused, "aside/" + formatTimeCompact(t0 + hours(3)) + "-refused-gw");
  ASSERT_TRUE(gw.restoreFiles(*second, {"cert.pem"}));
  ASSERT_TRUE(gwHeld.hold(fixedSet("held"), store::Source::Acme));
  ASSERT_TRUE(gwMarks.mark(second->id, t0 + hours(4)));
  EXPECT_TRUE(gwMarks.isRevoked(second->id));
  EXPECT_FALSE(gwMarks.isRevoked(first->id));
  ASSERT_TRUE(gw.keepAside(fixedSet("bad"), "unusable", t0 + hours(5)));

  // A user's folder at live/<name> is swapped for our link and kept aside.
  userWrite(dir, "live/folder/cert.pem", "USER FOLDER CERT\n");
  fsys::permissions(dir.path("live/folder"), fsys::perms(0755));
  store::Volume folder(fs, dir.path(), dir.path("state"), "folder", publishing);
  ASSERT_TRUE(folder.prepare());
  ASSERT_TRUE(folder.publish(fixedSet("f"), store::Source::SelfSigned, t0 + hours(6)));

  // A user's files in live/<name> are moved aside; a held set is released.
  userWrite(dir, "live/mine/cert.pem", "MINE\n");
  fsys::permissions(dir.path("live/mine"), fsys::perms(0755));
  store::Volume mine(fs, dir.path(), dir.path("state"), "mine", publishing);
  store::UserDrops mineDrops(fs, mine.layout());
  store::HeldSet mineHeld(fs, mine.layout(), publishing);
  ASSERT_TRUE(mine.prepare());
  auto view = mine.inspect();
  ASSERT_TRUE(view);
  ASSERT_TRUE(mineDrops.moveLiveAside(*view, view->foreign, "replaced", t0 + hours(7)));
  ASSERT_TRUE(mineHeld.hold(fixedSet("gone"), store::Source::Acme));
  ASSERT_TRUE(mineHeld.release());
  auto none = mineHeld.held();
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
  auto held = gwHeld.held();
  ASSERT_TRUE(held && *held);
  EXPECT_EQ((*held)->first, store::Source::Acme);
  EXPECT_EQ((*held)->second.cert, "CERT held\n");
}

}  // namespace

TEST(VolumeLayout, EveryPieceWritesWhereTheContractSays) {
  const mode_t umaskBefore = ::umask(022);
  TempDir dir;
  fsys::permissions(dir.path(), fsys::perms(0755));
  exerciseEveryPiece(dir);
  ::umask(umaskBefore);
  EXPECT_EQ(listing(dir.path()), kExpectedTree);
}

TEST(VolumeLayout, OnlyLinksOfOurShapeNameASet) {
  store::VolumeLayout layout{"/v", "/s", "gw"};
  EXPECT_EQ(layout.linkTo("set-000042"), "../archive/gw/set-000042");
  EXPECT_EQ(layout.setIdOfLink("../archive/gw/set-000042"), "set-000042");
  EXPECT_EQ(layout.setIdOfLink("../archive/gw/set-123456789"), "set-123456789");
  for (const char* other : {"../archive/other/set-000042", "../archive/gw/set-42", "../archive/gw/set-0000000001",
                            "../archive/gw/set-000042.tmp", "/v/archive/gw/set-000042", "../archive/gw/set-000042/"})
    EXPECT_EQ(layout.setIdOfLink(other), "") << other;
}
