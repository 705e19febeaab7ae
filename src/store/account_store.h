#pragma once
// ACME accounts under <state dir>/accounts/<CA>/: the key (0600) and the account
// URL, one per directory URL, so that a restart never makes a second account.
#include <mutex>
#include <optional>
#include <string>

#include "store/fs.h"

namespace sc::store {

class AccountStore {
 public:
  AccountStore(FileSystem& fs, Path stateDir);
  std::optional<std::string> key(const std::string& directoryUrl);
  Status saveKey(const std::string& directoryUrl, const std::string& pem);
  std::optional<std::string> accountUrl(const std::string& directoryUrl);
  Status saveAccountUrl(const std::string& directoryUrl, const std::string& url);
  // The CA no longer knows the account: the key stays, the URL goes.
  Status forgetAccountUrl(const std::string& directoryUrl);
  // Held while an account is found or made: lineages share one account per CA,
  // and two of them connecting at once must not make two.
  std::mutex& guard() { return guard_; }
  // "acme-v02.api.letsencrypt.org_directory": readable, one folder per CA.
  static std::string folderFor(const std::string& directoryUrl);

 private:
  Path dir(const std::string& directoryUrl) const;
  Status replace(const Path& file, const std::string& bytes, mode_t mode);
  FileSystem& fs_;
  Path root_;
  std::mutex guard_;
};

}  // namespace sc::store
