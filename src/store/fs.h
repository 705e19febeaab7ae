#pragma once
// The file system as the store sees it: small, so that tests can put a fault or a
// crash at any single step (leveldb's Env does the same).
#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace sc::store {

using Path = std::filesystem::path;

enum class EntryKind { Missing, File, Directory, Symlink, Other };

// Small files only: certificates and keys are a few KiB.
constexpr std::size_t kMaxFileBytes = 1 << 20;

// Who a new file belongs to: none changes nothing (sidecert's own uid and gid).
struct FileOwner {
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
};

// When a new file is made durable: at once, or with others by syncFiles.
enum class Sync { Now, Later };

class FileSystem {
 public:
  virtual ~FileSystem() = default;
  virtual Result<EntryKind> kind(const Path& p) = 0;  // lstat: links are not followed
  virtual Result<std::string> readFile(const Path& p) = 0;  // refuses links
  // root/rel, following links only while they stay inside root (user files).
  virtual Result<std::string> readBeneath(const Path& root, const Path& rel) = 0;
  virtual Result<std::string> readLink(const Path& p) = 0;
  virtual Result<std::vector<std::string>> list(const Path& dir) = 0;

  virtual Status makeDir(const Path& p, mode_t mode) = 0;  // an existing folder is fine
  // A new file, created exclusively, written, given `owner` and `mode`, fsynced
  // (Sync::Later: not yet; syncFiles does it for several).
  virtual Status writeNew(const Path& p, const std::string& data, mode_t mode, FileOwner owner = {},
                          Sync sync = Sync::Now) = 0;
  // Makes files written with Sync::Later durable, all of them before it returns.
  virtual Status syncFiles(const std::vector<Path>& files) = 0;
  virtual Status rename(const Path& from, const Path& to) = 0;
  // Swaps two entries in one step (renameat2 RENAME_EXCHANGE): a folder a user
  // made at live/<name> becomes our link with no moment where neither is there.
  virtual Status exchange(const Path& a, const Path& b) = 0;
  virtual Status symlink(const std::string& target, const Path& at) = 0;
  virtual Status syncDir(const Path& dir) = 0;
  virtual Status remove(const Path& p) = 0;      // a file, a link or an empty folder
  virtual Status removeTree(const Path& p) = 0;  // never follows links
  // The lock file, opened read-write (created if missing): a descriptor to flock.
  virtual Result<int> openLock(const Path& p) = 0;
};

}  // namespace sc::store
