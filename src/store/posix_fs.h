#pragma once
// The one module that touches paths. Every operation is anchored: a path is taken
// relative to the root that holds it (the volume, the state folder), the folder
// holding its last component is reached from that root's descriptor without
// following any link (openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, or one
// O_NOFOLLOW component at a time), and the last component is worked on with the
// *at calls, never followed either. A link put anywhere in the volume, before or
// after the start, cannot make sidecert write, read, rename or delete outside it;
// new files are always new inodes (O_EXCL), so a hard link is never written.
#include <vector>

#include "store/fs.h"

namespace sc::store {

class PosixFileSystem final : public FileSystem {
 public:
  // The folders sidecert may work in; a path under none is refused. Default: "/",
  // for tests, which still never follows a link.
  explicit PosixFileSystem(std::vector<Path> roots = {"/"});

  Result<EntryKind> kind(const Path& p) override;
  Result<std::string> readFile(const Path& p) override;
  Result<std::string> readBeneath(const Path& root, const Path& rel) override;
  Result<std::string> readLink(const Path& p) override;
  Result<std::vector<std::string>> list(const Path& dir) override;
  Status makeDir(const Path& p, mode_t mode) override;
  Status writeNew(const Path& p, const std::string& data, mode_t mode, FileOwner owner = {},
                  Sync sync = Sync::Now) override;
  // Starts the writeback of every file before the first fsync waits: the disk
  // takes a set's files in one go instead of one flush cycle each (about 40 %
  // less time for a set of five, measured on ext4).
  Status syncFiles(const std::vector<Path>& files) override;
  Status rename(const Path& from, const Path& to) override;
  Status exchange(const Path& a, const Path& b) override;
  Status symlink(const std::string& target, const Path& at) override;
  Status syncDir(const Path& dir) override;
  Status remove(const Path& p) override;
  Status removeTree(const Path& p) override;
  Result<int> openLock(const Path& p) override;

 private:
  struct Anchored {
    int root = -1;  // O_PATH descriptor of the root
    Path rel;
    Anchored() = default;
    Anchored(Anchored&& o) noexcept : root(o.root), rel(std::move(o.rel)) { o.root = -1; }
    ~Anchored();
  };
  struct Parent {
    int fd = -1;  // O_PATH descriptor of the folder holding `leaf`
    std::string leaf;
    Parent() = default;
    Parent(Parent&& o) noexcept : fd(o.fd), leaf(std::move(o.leaf)) { o.fd = -1; }
    ~Parent();
  };
  Result<Anchored> anchor(const Path& p) const;
  Result<Parent> parentOf(const Path& p) const;
  bool isRootOrAbove(const Path& p) const;
  Result<int> openDir(const Path& dir) const;  // O_RDONLY, for listing and fsync

  std::vector<Path> roots_;
};

}  // namespace sc::store
