#include "store/posix_fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <memory>

namespace sc::store {
namespace {

constexpr int kMaxTreeDepth = 32;  // our trees are three deep; a deeper one is not ours

struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  Fd(Fd&& o) noexcept : fd(o.fd) { o.fd = -1; }
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
};

Result<std::string> readAll(int fd, const std::string& what) {
  struct stat st {};
  if (fstat(fd, &st) != 0) return failErrno("stat", what);
  if (!S_ISREG(st.st_mode)) return fail(what + " is not a regular file");
  if (static_cast<std::size_t>(st.st_size) > kMaxFileBytes) return fail(what + " is larger than 1 MiB");
  std::string out;
  char buf[8192];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return failErrno("read", what);
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > kMaxFileBytes) return fail(what + " is larger than 1 MiB");
  }
  return out;
}

// openat2(2): with RESOLVE_BENEATH, a rename or mount anywhere on the system while
// a path with ".." (a relative link's target) is walked fails the call with EAGAIN,
// to be tried again. Seen under load: a user's file read as "unavailable".
constexpr int kOpenat2Tries = 64;

int openat2(int dir, const Path& rel, int flags, std::uint64_t resolve) {
  open_how how{};
  how.flags = static_cast<std::uint64_t>(flags);
  how.resolve = resolve;
  int fd = -1;
  for (int tried = 0; tried < kOpenat2Tries; ++tried) {
    fd = static_cast<int>(::syscall(SYS_openat2, dir, rel.c_str(), &how, sizeof how));
    if (fd >= 0 || errno != EAGAIN) break;
  }
  return fd;
}

// The folder rel under `root`, walked without following any link and without
// leaving root: openat2 where the kernel has it (5.6+), else one component at a
// time with O_NOFOLLOW.
int openDirBeneath(int root, const Path& rel, int flags) {
  int fd = openat2(root, rel, flags | O_DIRECTORY | O_CLOEXEC,
                   RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
  if (fd < 0 && errno == EXDEV) errno = ELOOP;  // a way out of the root: a link or a ".."
  if (fd >= 0 || errno != ENOSYS) return fd;
  Fd cur(::dup(root));
  std::vector<Path> parts(rel.begin(), rel.end());
  for (std::size_t i = 0; i < parts.size() && cur.fd >= 0; ++i) {
    if (parts[i] == "." || parts[i].empty()) continue;
    if (parts[i] == "..") {
      errno = ELOOP;
      return -1;
    }
    int last = i + 1 == parts.size() ? flags : O_PATH;
    Fd next(::openat(cur.fd, parts[i].c_str(), last | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (next.fd < 0) return -1;
    std::swap(cur.fd, next.fd);
  }
  if (cur.fd >= 0 && parts.empty()) return ::openat(root, ".", flags | O_DIRECTORY | O_CLOEXEC);
  int out = cur.fd;
  cur.fd = -1;
  return out;
}

// openat2 with RESOLVE_BENEATH where the kernel has it (5.6+), else a check of
// the resolved path: either way a link may not lead out of the root.
int openBeneath(const Path& root, const Path& rel, bool& escaped) {
  escaped = false;
  Fd dir(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.fd < 0) return -1;
  int fd = openat2(dir.fd, rel, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS);
  if (fd >= 0 || errno != ENOSYS) {
    escaped = fd < 0 && errno == EXDEV;
    return fd;
  }
  std::error_code ec;
  Path real = std::filesystem::weakly_canonical(root / rel, ec);
  Path realRoot = std::filesystem::weakly_canonical(root, ec);
  auto [r, _] = std::mismatch(realRoot.begin(), realRoot.end(), real.begin(), real.end());
  if (r != realRoot.end()) {
    escaped = true;
    errno = EXDEV;
    return -1;
  }
  return ::open(real.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
}

// An error for an operation on `p`, in words for a link in the way.
Error failAt(const std::string& what, const Path& p) {
  if (errno == ELOOP)
    return fail(what + " " + p.string() + ": a symbolic link is in the way (sidecert never writes through one)",
                errno).error();
  return failErrno(what, p.string()).error();
}

// The names in an open folder, but "." and ".."; takes the descriptor over.
Result<std::vector<std::string>> namesIn(int fd, const Path& shown) {
  std::unique_ptr<DIR, int (*)(DIR*)> d(fd >= 0 ? ::fdopendir(fd) : nullptr, ::closedir);
  if (!d) {
    auto err = failErrno("list", shown.string());
    if (fd >= 0) ::close(fd);
    return err;
  }
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d.get())) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  return names;
}

// Removes `name` in `dir` and everything under it, never through a link.
Status removeTreeAt(int dir, const std::string& name, const Path& shown, int depth) {
  struct stat st {};
  if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
    return errno == ENOENT ? Status{} : std::unexpected(failAt("remove", shown));
  if (!S_ISDIR(st.st_mode)) {
    if (::unlinkat(dir, name.c_str(), 0) != 0 && errno != ENOENT) return std::unexpected(failAt("remove", shown));
    return {};
  }
  if (depth >= kMaxTreeDepth) return fail("remove " + shown.string() + ": more than 32 folders deep");
  Fd sub(::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (sub.fd < 0) return std::unexpected(failAt("remove", shown));
  auto names = namesIn(::dup(sub.fd), shown);
  if (!names) return std::unexpected(names.error());
  for (const auto& n : *names)
    if (auto ok = removeTreeAt(sub.fd, n, shown / n, depth + 1); !ok) return ok;
  if (::unlinkat(dir, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) return std::unexpected(failAt("remove", shown));
  return {};
}

}  // namespace

PosixFileSystem::PosixFileSystem(std::vector<Path> roots) {
  for (auto& r : roots) roots_.push_back(r.lexically_normal());
  // The deepest first: a path is anchored at the most specific root that holds it.
  std::sort(roots_.begin(), roots_.end(),
            [](const Path& a, const Path& b) { return a.string().size() > b.string().size(); });
}

Result<PosixFileSystem::Anchored> PosixFileSystem::anchor(const Path& p) const {
  Path norm = p.lexically_normal();
  for (const auto& root : roots_) {
    Path rel = norm.lexically_relative(root);
    if (rel.empty() || *rel.begin() == "..") continue;
    Fd dir(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));  // the root itself is the operator's
    if (dir.fd < 0) return std::unexpected(failErrno("open folder", root.string()).error());
    Anchored a;
    a.root = dir.fd;
    dir.fd = -1;
    a.rel = rel;
    return a;
  }
  std::string allowed;
  for (const auto& r : roots_) allowed += (allowed.empty() ? "" : ", ") + r.string();
  return fail(p.string() + " is outside the folders sidecert writes to (" + allowed + ")", EPERM);
}

PosixFileSystem::Anchored::~Anchored() {
  if (root >= 0) ::close(root);
}

bool PosixFileSystem::isRootOrAbove(const Path& p) const {
  Path norm = p.lexically_normal();
  return std::any_of(roots_.begin(), roots_.end(), [&](const Path& root) {
    Path rel = root.lexically_relative(norm);
    return !rel.empty() && *rel.begin() != "..";
  });
}

// The folder that holds p's last component, as an O_PATH descriptor. A root, or a
// folder above one, is the operator's path and is taken as given (to create it).
Result<PosixFileSystem::Parent> PosixFileSystem::parentOf(const Path& p) const {
  if (isRootOrAbove(p)) {
    Path norm = p.lexically_normal();
    Parent out;
    out.leaf = norm.filename().string();
    if (out.leaf.empty()) return fail(p.string() + " names no entry of a folder", EINVAL);
    out.fd = ::open(norm.parent_path().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (out.fd < 0) return std::unexpected(failErrno("open the folder of", p.string()).error());
    return out;
  }
  auto a = anchor(p);
  if (!a) return std::unexpected(a.error());
  Parent out;
  out.leaf = a->rel.filename().string();
  if (out.leaf.empty() || out.leaf == "." || out.leaf == "..")
    return fail(p.string() + " names no entry of a folder", EINVAL);
  Path parent = a->rel.parent_path();
  out.fd = openDirBeneath(a->root, parent.empty() ? Path(".") : parent, O_PATH);
  if (out.fd < 0) return std::unexpected(failAt("open the folder of", p));
  return out;
}

PosixFileSystem::Parent::~Parent() {
  if (fd >= 0) ::close(fd);
}

Result<int> PosixFileSystem::openDir(const Path& dir) const {
  auto a = anchor(dir);
  if (!a) return std::unexpected(a.error());
  int fd = openDirBeneath(a->root, a->rel, O_RDONLY);
  if (fd < 0) return std::unexpected(failAt("open folder", dir));
  return fd;
}

Result<EntryKind> PosixFileSystem::kind(const Path& p) {
  if (p.lexically_normal() == p.root_path()) return EntryKind::Directory;
  auto parent = parentOf(p);
  if (!parent) {
    int e = parent.error().code;
    if (e == ENOENT || e == ENOTDIR) return EntryKind::Missing;
    return std::unexpected(parent.error());
  }
  struct stat st {};
  if (::fstatat(parent->fd, parent->leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return EntryKind::Missing;
    return std::unexpected(failAt("stat", p));
  }
  if (S_ISREG(st.st_mode)) return EntryKind::File;
  if (S_ISDIR(st.st_mode)) return EntryKind::Directory;
  if (S_ISLNK(st.st_mode)) return EntryKind::Symlink;
  return EntryKind::Other;
}

Result<std::string> PosixFileSystem::readFile(const Path& p) {
  auto parent = parentOf(p);
  if (!parent) return std::unexpected(parent.error());
  Fd fd(::openat(parent->fd, parent->leaf.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK));
  if (fd.fd < 0) return std::unexpected(failAt("open", p));
  return readAll(fd.fd, p.string());
}

Result<std::string> PosixFileSystem::readBeneath(const Path& root, const Path& rel) {
  bool escaped = false;
  Fd fd(openBeneath(root, rel, escaped));
  if (escaped) return fail(rel.string() + " is a symbolic link that leads outside the volume", EXDEV);
  if (fd.fd < 0) return failErrno("open", rel.string());
  return readAll(fd.fd, rel.string());
}

Result<std::string> PosixFileSystem::readLink(const Path& p) {
  auto parent = parentOf(p);
  if (!parent) return std::unexpected(parent.error());
  char buf[4096];
  ssize_t n = ::readlinkat(parent->fd, parent->leaf.c_str(), buf, sizeof buf);
  if (n < 0) return std::unexpected(failAt("readlink", p));
  return std::string(buf, static_cast<std::size_t>(n));
}

Result<std::vector<std::string>> PosixFileSystem::list(const Path& dir) {
  auto fd = openDir(dir);
  if (!fd) return std::unexpected(fd.error());
  return namesIn(*fd, dir);
}

Status PosixFileSystem::makeDir(const Path& p, mode_t mode) {
  auto parent = parentOf(p);
  if (!parent) return std::unexpected(parent.error());
  if (::mkdirat(parent->fd, parent->leaf.c_str(), mode) != 0) {
    if (errno != EEXIST) return std::unexpected(failAt("create folder", p));
    struct stat st {};
    if (::fstatat(parent->fd, parent->leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode))
      return fail("create folder " + p.string() + ": something else is in the way", EEXIST);
    return {};
  }
  Fd made(::openat(parent->fd, parent->leaf.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (made.fd < 0) return std::unexpected(failAt("open folder", p));
  if (::fchmod(made.fd, mode) != 0) return failErrno("chmod", p.string());  // umask must not widen or narrow it
  return {};
}

Status PosixFileSystem::writeNew(const Path& p, const std::string& data, mode_t mode, FileOwner owner, Sync sync) {
  auto parent = parentOf(p);
  if (!parent) return std::unexpected(parent.error());
  const char* leaf = parent->leaf.c_str();
  // O_EXCL: always a new inode, so never a file someone linked here.
  Fd fd(::openat(parent->fd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (fd.fd < 0) return std::unexpected(failAt("create", p));
  auto undo = [&](Error e) {
    ::unlinkat(parent->fd, leaf, 0);
    return std::unexpected(std::move(e));
  };
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd.fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return undo(failErrno("write", p.string()).error());
    done += static_cast<std::size_t>(n);
  }
  // The mode first: once the file is another user's, changing it would need CAP_FOWNER.
  if (::fchmod(fd.fd, mode) != 0) return undo(failErrno("chmod", p.string()).error());
  if ((owner.uid || owner.gid) &&
      ::fchown(fd.fd, owner.uid.value_or(static_cast<uid_t>(-1)), owner.gid.value_or(static_cast<gid_t>(-1))) != 0)
    return undo(failErrno("chown", p.string()).error());
  if (sync == Sync::Now && ::fsync(fd.fd) != 0) return undo(failErrno("fsync", p.string()).error());
  return {};
}

Status PosixFileSystem::syncFiles(const std::vector<Path>& files) {
  std::vector<Fd> open;
  open.reserve(files.size());
  for (const auto& p : files) {
    auto parent = parentOf(p);
    if (!parent) return std::unexpected(parent.error());
    Fd fd(::openat(parent->fd, parent->leaf.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK));
    if (fd.fd < 0) return std::unexpected(failAt("open", p));
    // Only a hint: a file system without it still gets each fsync below.
    ::sync_file_range(fd.fd, 0, 0, SYNC_FILE_RANGE_WRITE);
    open.push_back(std::move(fd));
  }
  for (std::size_t i = 0; i < open.size(); ++i)
    if (::fsync(open[i].fd) != 0) return failErrno("fsync", files[i].string());
  return {};
}

Status PosixFileSystem::rename(const Path& from, const Path& to) {
  auto a = parentOf(from);
  if (!a) return std::unexpected(a.error());
  auto b = parentOf(to);
  if (!b) return std::unexpected(b.error());
  if (::renameat(a->fd, a->leaf.c_str(), b->fd, b->leaf.c_str()) != 0)
    return std::unexpected(failAt("rename " + from.string() + " to", to));
  return {};
}

Status PosixFileSystem::exchange(const Path& x, const Path& y) {
  auto a = parentOf(x);
  if (!a) return std::unexpected(a.error());
  auto b = parentOf(y);
  if (!b) return std::unexpected(b.error());
  if (::renameat2(a->fd, a->leaf.c_str(), b->fd, b->leaf.c_str(), RENAME_EXCHANGE) != 0)
    return std::unexpected(failAt("exchange " + x.string() + " with", y));
  return {};
}

Status PosixFileSystem::symlink(const std::string& target, const Path& at) {
  auto parent = parentOf(at);
  if (!parent) return std::unexpected(parent.error());
  if (::symlinkat(target.c_str(), parent->fd, parent->leaf.c_str()) != 0) return std::unexpected(failAt("symlink", at));
  return {};
}

Status PosixFileSystem::syncDir(const Path& dir) {
  auto fd = openDir(dir);
  if (!fd) return std::unexpected(fd.error());
  Fd held(*fd);
  if (::fsync(held.fd) != 0) return failErrno("fsync folder", dir.string());
  return {};
}

Status PosixFileSystem::remove(const Path& p) {
  auto parent = parentOf(p);
  if (!parent) {
    int e = parent.error().code;
    return e == ENOENT ? Status{} : std::unexpected(parent.error());
  }
  if (::unlinkat(parent->fd, parent->leaf.c_str(), 0) == 0) return {};
  if (errno == EISDIR && ::unlinkat(parent->fd, parent->leaf.c_str(), AT_REMOVEDIR) == 0) return {};
  if (errno == ENOENT) return {};
  return std::unexpected(failAt("remove", p));
}

Status PosixFileSystem::removeTree(const Path& p) {
  auto parent = parentOf(p);
  if (!parent) {
    int e = parent.error().code;
    return e == ENOENT ? Status{} : std::unexpected(parent.error());
  }
  return removeTreeAt(parent->fd, parent->leaf, p, 0);
}

Result<int> PosixFileSystem::openLock(const Path& p) {
  auto parent = parentOf(p);
  if (!parent) return std::unexpected(parent.error());
  const char* leaf = parent->leaf.c_str();
  // Only a lock file sidecert made: a regular file with one link, its own. Anything
  // else (a hard link to a file elsewhere, a FIFO, a device, a link) is removed
  // without being opened, and a new file made in its place.
  for (int tries = 0; tries < 3; ++tries) {
    struct stat seen {};
    if (::fstatat(parent->fd, leaf, &seen, AT_SYMLINK_NOFOLLOW) == 0) {
      if (S_ISREG(seen.st_mode) && seen.st_nlink == 1 && seen.st_uid == ::geteuid()) {
        int fd = ::openat(parent->fd, leaf, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
        if (fd < 0 && errno != ENOENT && errno != ELOOP) return std::unexpected(failAt("open", p));
        struct stat opened {};
        if (fd >= 0 && ::fstat(fd, &opened) == 0 && opened.st_ino == seen.st_ino && opened.st_dev == seen.st_dev &&
            opened.st_nlink == 1)
          return fd;
        if (fd >= 0) ::close(fd);
        continue;  // swapped between the look and the open: look again
      }
      if (::unlinkat(parent->fd, leaf, 0) != 0 && errno != ENOENT) return std::unexpected(failAt("remove", p));
    } else if (errno != ENOENT) {
      return std::unexpected(failAt("stat", p));
    }
    int fd = ::openat(parent->fd, leaf, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0) return fd;
    if (errno != EEXIST) return std::unexpected(failAt("create", p));
  }
  return fail("open " + p.string() + ": another process keeps replacing it", EEXIST);
}

}  // namespace sc::store
