#include "watch/watcher.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <filesystem>

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
