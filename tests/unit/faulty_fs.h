#pragma once
// A file system that fails on purpose: the Nth change fails (disk full), or the
// Nth change and every one after it (the process died there).
#include "store/posix_fs.h"

class FaultyFs final : public sc::store::FileSystem {
 public:
  using Path = sc::store::Path;
  enum class Mode { Count, FailOne, CrashAt };
  Mode mode = Mode::Count;
  int target = 0;
  int changes = 0;

  bool unreadable = false;  // every look at an entry fails (an I/O error under the volume)

  sc::Result<sc::store::EntryKind> kind(const Path& p) override {
    if (unreadable) return sc::fail("injected: Input/output error", EIO);
    return real_.kind(p);
  }
  sc::Result<std::string> readFile(const Path& p) override { return real_.readFile(p); }
  sc::Result<std::string> readBeneath(const Path& r, const Path& p) override { return real_.readBeneath(r, p); }
  sc::Result<std::string> readLink(const Path& p) override { return real_.readLink(p); }
  sc::Result<std::vector<std::string>> list(const Path& d) override { return real_.list(d); }

  sc::Status makeDir(const Path& p, mode_t m) override { return change([&] { return real_.makeDir(p, m); }); }
  sc::Status writeNew(const Path& p, const std::string& d, mode_t m, sc::store::FileOwner g = {},
                      sc::store::Sync s = sc::store::Sync::Now) override {
    return change([&] { return real_.writeNew(p, d, m, g, s); });
  }
  sc::Status syncFiles(const std::vector<Path>& f) override { return change([&] { return real_.syncFiles(f); }); }
  sc::Status rename(const Path& a, const Path& b) override { return change([&] { return real_.rename(a, b); }); }
  sc::Status exchange(const Path& a, const Path& b) override { return change([&] { return real_.exchange(a, b); }); }
  sc::Status symlink(const std::string& t, const Path& a) override { return change([&] { return real_.symlink(t, a); }); }
  sc::Status syncDir(const Path& d) override { return change([&] { return real_.syncDir(d); }); }
  sc::Status remove(const Path& p) override { return change([&] { return real_.remove(p); }); }
  sc::Status removeTree(const Path& p) override { return change([&] { return real_.removeTree(p); }); }
  sc::Result<int> openLock(const Path& p) override { return real_.openLock(p); }

 private:
  template <class F>
  sc::Status change(F&& f) {
    ++changes;
    bool failing = (mode == Mode::FailOne && changes == target) || (mode == Mode::CrashAt && changes >= target);
    if (failing) return sc::fail("injected: No space left on device", ENOSPC);
    return f();
  }
  sc::store::PosixFileSystem real_;
};
