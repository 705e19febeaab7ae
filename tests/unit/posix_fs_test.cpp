#include "store/posix_fs.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "test_support.h"

using namespace sc;
using store::EntryKind;
using store::PosixFileSystem;
namespace fs = std::filesystem;

namespace {

// A volume with a folder `real` in it, and `outside` beside it holding a decoy.
struct Anchored : ::testing::Test {
  TempDir tmp;
  std::string vol = tmp.path("vol"), outside = tmp.path("outside");
  PosixFileSystem files{{vol}};

  void SetUp() override {
    fs::create_directories(vol + "/real/sub");
    tmp.write("outside/decoy", "precious");
  }
  // Replaces vol/<name> by a link to the outside folder.
  void linkOut(const std::string& name) { fs::create_directory_symlink(outside, vol + "/" + name); }
  std::vector<std::string> outsideEntries() {
    std::vector<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(outside)) out.push_back(e.path().filename());
    return out;
  }
};

}  // namespace

TEST_F(Anchored, NoWriteGoesThroughALinkedFolder) {
  linkOut("gone");
  EXPECT_FALSE(files.writeNew(vol + "/gone/privkey.pem", "key", 0600));
  EXPECT_FALSE(files.makeDir(vol + "/gone/set-000001", 0755));
  EXPECT_FALSE(files.symlink("x", vol + "/gone/link"));
  EXPECT_FALSE(files.rename(vol + "/real/sub", vol + "/gone/sub"));
  EXPECT_FALSE(files.rename(vol + "/gone/decoy", vol + "/real/decoy"));
  EXPECT_FALSE(files.remove(vol + "/gone/decoy"));
  EXPECT_FALSE(files.removeTree(vol + "/gone/decoy"));
  EXPECT_FALSE(files.readFile(vol + "/gone/decoy"));
  EXPECT_FALSE(files.list(vol + "/gone"));
  EXPECT_FALSE(files.syncDir(vol + "/gone"));
  EXPECT_EQ(outsideEntries(), std::vector<std::string>{"decoy"});
  EXPECT_TRUE(fs::exists(vol + "/real/sub"));
  auto refused = files.writeNew(vol + "/gone/x", "", 0600);
  EXPECT_NE(refused.error().message.find("a symbolic link is in the way"), std::string::npos) << refused.error().message;
}

TEST_F(Anchored, ALinkDeeperInThePathIsRefusedToo) {
  fs::create_directories(vol + "/a/b");
  fs::remove_all(vol + "/a/b");
  fs::create_directory_symlink(outside, vol + "/a/b");
  EXPECT_FALSE(files.writeNew(vol + "/a/b/c", "x", 0600));
  EXPECT_FALSE(files.makeDir(vol + "/a/b/c", 0700));
  EXPECT_EQ(outsideEntries(), std::vector<std::string>{"decoy"});
}

TEST_F(Anchored, ThePathsLastComponentIsNeverFollowed) {
  linkOut("link");
  EXPECT_EQ(*files.kind(vol + "/link"), EntryKind::Symlink);
  EXPECT_EQ(*files.readLink(vol + "/link"), outside);
  EXPECT_FALSE(files.makeDir(vol + "/link", 0700));  // something else is in the way
  ASSERT_TRUE(files.removeTree(vol + "/link"));      // the link goes, not what it points to
  EXPECT_FALSE(fs::exists(vol + "/link"));
  EXPECT_EQ(outsideEntries(), std::vector<std::string>{"decoy"});
}

TEST_F(Anchored, RemoveTreeTakesLinksInsideAsLinks) {
  fs::create_directory_symlink(outside, vol + "/real/sub/out");
  ::symlink((outside + "/decoy").c_str(), (vol + "/real/file").c_str());
  ASSERT_TRUE(files.removeTree(vol + "/real"));
  EXPECT_FALSE(fs::exists(vol + "/real"));
  EXPECT_EQ(outsideEntries(), std::vector<std::string>{"decoy"});
}

TEST_F(Anchored, PathsOutsideTheRootsAreRefused) {
  auto r = files.writeNew(outside + "/new", "x", 0600);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("outside the folders sidecert writes to"), std::string::npos);
  EXPECT_FALSE(files.remove(vol + "/../outside/decoy"));
  EXPECT_EQ(outsideEntries(), std::vector<std::string>{"decoy"});
}

TEST_F(Anchored, AHardLinkIsNeverWrittenNorTakenForTheLock) {
  ASSERT_EQ(::link((outside + "/decoy").c_str(), (vol + "/real/lock").c_str()), 0);
  EXPECT_FALSE(files.writeNew(vol + "/real/lock", "pid", 0600));  // exclusive: never an existing file
  auto fd = files.openLock(vol + "/real/lock");
  ASSERT_TRUE(fd) << fd.error().message;
  ASSERT_EQ(::write(*fd, "4242\n", 5), 5);
  ::close(*fd);
  EXPECT_EQ(tmp.read("outside/decoy"), "precious");
  struct stat st {};
  ASSERT_EQ(::stat((vol + "/real/lock").c_str(), &st), 0);
  EXPECT_EQ(st.st_nlink, 1u);
}

TEST_F(Anchored, AFifoInPlaceOfTheLockIsReplacedWithoutBeingOpened) {
  ASSERT_EQ(::mkfifo((vol + "/real/lock").c_str(), 0600), 0);
  auto fd = files.openLock(vol + "/real/lock");  // opening a FIFO's reader end would block
  ASSERT_TRUE(fd) << fd.error().message;
  ::close(*fd);
  EXPECT_EQ(*files.kind(vol + "/real/lock"), EntryKind::File);
}

// openat2 fails with EAGAIN when any rename on the system races a walk through
// "..", as every read of live/<name>/ does (its link is ../archive/...).
TEST_F(Anchored, ReadsThroughARelativeLinkSurviveRenamesElsewhere) {
  tmp.write("vol/archive/gw/set-000001/cert.pem", "CERT");
  fs::create_directories(vol + "/live");
  ASSERT_EQ(::symlink("../archive/gw/set-000001", (vol + "/live/gw").c_str()), 0);
  TempDir elsewhere;
  std::atomic<bool> done{false};
  std::atomic<long> renames{0};
  std::thread renamer([&] {
    std::string a = elsewhere.write("a", "x"), b = elsewhere.path("b");
    while (!done) {
      if (::rename(a.c_str(), b.c_str()) == 0) std::swap(a, b);
      ++renames;
    }
  });
  int failed = 0;
  std::string firstError;
  for (int i = 0; i < 20000; ++i) {
    auto read = files.readBeneath(vol, "live/gw/cert.pem");
    if (!read && failed++ == 0) firstError = read.error().message;
  }
  done = true;
  renamer.join();
  EXPECT_EQ(failed, 0) << firstError << " (" << renames << " renames meanwhile)";
}

TEST_F(Anchored, FilesWrittenForLaterAreSyncedTogetherAndALinkAmongThemIsRefused) {
  std::vector<store::Path> later{vol + "/real/cert.pem", vol + "/real/privkey.pem"};
  ASSERT_TRUE(files.writeNew(later[0], "cert", 0644, {}, store::Sync::Later));
  ASSERT_TRUE(files.writeNew(later[1], "key", 0600, {}, store::Sync::Later));
  EXPECT_TRUE(files.syncFiles(later));
  EXPECT_EQ(*files.readFile(later[1]), "key");
  EXPECT_EQ(fs::status(later[1]).permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);

  // One swapped for a link to a file outside: the sync names it and opens nothing through it.
  fs::remove(later[0]);
  fs::create_symlink(outside + "/decoy", later[0]);
  auto refused = files.syncFiles(later);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("cert.pem"), std::string::npos) << refused.error().message;
  auto missing = files.syncFiles({vol + "/real/gone.pem"});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("gone.pem"), std::string::npos) << missing.error().message;
}
