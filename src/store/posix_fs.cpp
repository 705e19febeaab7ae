#include "store/posix_fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>

#include <memory>

namespace sc::store {
namespace {

struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
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

// openat2 with RESOLVE_BENEATH where the kernel has it (5.6+), else a check of
// the resolved path: either way a link may not lead out of the root.
int openBeneath(const Path& root, const Path& rel, bool& escaped) {
  escaped = false;
  Fd dir(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.fd < 0) return -1;
  open_how how{};
  how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  int fd = static_cast<int>(::syscall(SYS_openat2, dir.fd, rel.c_str(), &how, sizeof how));
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

}  // namespace

Result<EntryKind> PosixFileSystem::kind(const Path& p) {
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return EntryKind::Missing;
    return failErrno("stat", p.string());
  }
  if (S_ISREG(st.st_mode)) return EntryKind::File;
  if (S_ISDIR(st.st_mode)) return EntryKind::Directory;
  if (S_ISLNK(st.st_mode)) return EntryKind::Symlink;
  return EntryKind::Other;
}

Result<std::string> PosixFileSystem::readFile(const Path& p) {
  Fd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK));
  if (fd.fd < 0) return failErrno("open", p.string());
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
  char buf[4096];
  ssize_t n = ::readlink(p.c_str(), buf, sizeof buf);
  if (n < 0) return failErrno("readlink", p.string());
  return std::string(buf, static_cast<std::size_t>(n));
}

Result<std::vector<std::string>> PosixFileSystem::list(const Path& dir) {
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
  if (!d) return failErrno("list", dir.string());
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d.get())) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  return names;
}

Status PosixFileSystem::makeDir(const Path& p, mode_t mode) {
  if (::mkdir(p.c_str(), mode) != 0) {
    if (errno != EEXIST) return failErrno("create folder", p.string());
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
      return fail("create folder " + p.string() + ": something else is in the way", EEXIST);
    return {};
  }
  if (::chmod(p.c_str(), mode) != 0) return failErrno("chmod", p.string());  // umask must not widen or narrow it
  return {};
}

Status PosixFileSystem::writeNew(const Path& p, const std::string& data, mode_t mode, std::optional<gid_t> gid) {
  Fd fd(::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (fd.fd < 0) return failErrno("create", p.string());
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd.fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      auto err = failErrno("write", p.string());
      ::unlink(p.c_str());
      return err;
    }
    done += static_cast<std::size_t>(n);
  }
  if (gid && ::fchown(fd.fd, static_cast<uid_t>(-1), *gid) != 0) return failErrno("chgrp", p.string());
  if (::fchmod(fd.fd, mode) != 0) return failErrno("chmod", p.string());
  if (::fsync(fd.fd) != 0) {
    auto err = failErrno("fsync", p.string());
    ::unlink(p.c_str());
    return err;
  }
  return {};
}

Status PosixFileSystem::rename(const Path& from, const Path& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) return failErrno("rename " + from.string() + " to", to.string());
  return {};
}

Status PosixFileSystem::exchange(const Path& a, const Path& b) {
  if (::renameat2(AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), RENAME_EXCHANGE) != 0)
    return failErrno("exchange " + a.string() + " with", b.string());
  return {};
}

Status PosixFileSystem::symlink(const std::string& target, const Path& at) {
  if (::symlink(target.c_str(), at.c_str()) != 0) return failErrno("symlink", at.string());
  return {};
}

Status PosixFileSystem::syncDir(const Path& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.fd < 0) return failErrno("open folder", dir.string());
  if (::fsync(fd.fd) != 0) return failErrno("fsync folder", dir.string());
  return {};
}

Status PosixFileSystem::remove(const Path& p) {
  if (::unlink(p.c_str()) == 0) return {};
  if (errno == EISDIR && ::rmdir(p.c_str()) == 0) return {};
  if (errno == ENOENT) return {};
  return failErrno("remove", p.string());
}

Status PosixFileSystem::removeTree(const Path& p) {
  std::error_code ec;
  std::filesystem::remove_all(p, ec);  // remove_all removes links, never what they point to
  if (ec) return fail("remove " + p.string() + ": " + ec.message(), ec.value());
  return {};
}

}  // namespace sc::store
