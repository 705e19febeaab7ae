#include "watch/watcher.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "test_support.h"

using namespace sc;
namespace fs = std::filesystem;

namespace {

// What the watcher reports once its descriptor is readable (or nothing in 2 s).
std::set<std::string> nextChanges(watch::Watcher& w) {
  pollfd p{w.fd(), POLLIN, 0};
  if (::poll(&p, 1, 2000) <= 0) return {};
  return w.drain();
}

}  // namespace

TEST(Watcher, OneWatcherTellsWhichLineageChanged) {
  TempDir dir;
  fs::create_directories(dir.path("archive/a/set-1"));
  fs::create_directories(dir.path("archive/b/set-1"));
  fs::create_directories(dir.path("live"));
  fs::create_directory_symlink("../archive/a/set-1", dir.path("live/a"));
  fs::create_directory_symlink("../archive/b/set-1", dir.path("live/b"));
  auto w = watch::Watcher::create();
  ASSERT_TRUE(w);
  EXPECT_TRUE(*w->watchLive(dir.path("live"), "a"));
  EXPECT_TRUE(*w->watchLive(dir.path("live"), "b"));
  EXPECT_FALSE(*w->watchLive(dir.path("live"), "b"));  // already watched

  dir.write("archive/b/set-1/cert.pem", "dropped");  // docker cp into live/b/
  EXPECT_EQ(nextChanges(*w), std::set<std::string>{"b"});
  dir.write("archive/a/set-1/.privkey.pem.tmp", "ours");  // our own temporary file: nothing
  dir.write("live/.a.set-2.tmp", "ours");
  fs::remove(dir.path("live/a"));  // the link itself
  EXPECT_EQ(nextChanges(*w), std::set<std::string>{"a"});
  dir.write("live/unrelated", "x");  // another folder's entry
  EXPECT_TRUE(nextChanges(*w).empty());
}

// More events than the kernel queues (fs.inotify.max_queued_events): the ones lost
// could have been anyone's, so every lineage is reported, not only those whose
// events survived.
TEST(Watcher, AnOverflowedQueueReportsEveryLineage) {
  TempDir dir;
  fs::create_directories(dir.path("archive/a/set-1"));
  fs::create_directories(dir.path("archive/b/set-1"));
  fs::create_directories(dir.path("live"));
  fs::create_directory_symlink("../archive/a/set-1", dir.path("live/a"));
  fs::create_directory_symlink("../archive/b/set-1", dir.path("live/b"));
  auto w = watch::Watcher::create();
  ASSERT_TRUE(w);
  ASSERT_TRUE(w->watchLive(dir.path("live"), "a"));
  ASSERT_TRUE(w->watchLive(dir.path("live"), "b"));
  long queued = 16384;
  if (std::ifstream in("/proc/sys/fs/inotify/max_queued_events"); in) in >> queued;
  ASSERT_LT(queued, 1000000) << "a queue this long takes too long to fill here";
  // each new file queues at least two events (created, closed after writing)
  for (long i = 0; i < queued / 2 + 16; ++i) dir.write("archive/a/set-1/f" + std::to_string(i), "x");
  EXPECT_EQ(nextChanges(*w), (std::set<std::string>{"a", "b"}));
}
