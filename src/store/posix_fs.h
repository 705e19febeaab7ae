#pragma once
#include "store/fs.h"

namespace sc::store {

class PosixFileSystem final : public FileSystem {
 public:
  Result<EntryKind> kind(const Path& p) override;
  Result<std::string> readFile(const Path& p) override;
  Result<std::string> readBeneath(const Path& root, const Path& rel) override;
  Result<std::string> readLink(const Path& p) override;
  Result<std::vector<std::string>> list(const Path& dir) override;
  Status makeDir(const Path& p, mode_t mode) override;
  Status writeNew(const Path& p, const std::string& data, mode_t mode, std::optional<gid_t> gid) override;
  Status rename(const Path& from, const Path& to) override;
  Status exchange(const Path& a, const Path& b) override;
  Status symlink(const std::string& target, const Path& at) override;
  Status syncDir(const Path& dir) override;
  Status remove(const Path& p) override;
  Status removeTree(const Path& p) override;
};

}  // namespace sc::store
