#include "store/account_store.h"

namespace sc::store {

AccountStore::AccountStore(FileSystem& fs, Path root) : fs_(fs), root_(std::move(root)) {}

std::string AccountStore::folderFor(const std::string& url) {
  std::string s = url.rfind("https://", 0) == 0 ? url.substr(8) : url;
  for (auto& c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-')) c = '_';
  return s.substr(0, 120);
}

Path AccountStore::dir(const std::string& url) const { return root_ / "accounts" / folderFor(url); }

std::optional<std::string> AccountStore::key(const std::string& url) {
  auto k = fs_.readFile(dir(url) / "key.pem");
  if (!k) return std::nullopt;
  return *k;
}

Status AccountStore::replace(const Path& file, const std::string& bytes, mode_t mode) {
  for (const Path& d : {root_, root_ / "accounts", file.parent_path()})
    if (auto ok = fs_.makeDir(d, 0700); !ok) return ok;
  Path tmp = file;
  tmp += ".tmp";
  if (auto ok = fs_.remove(tmp); !ok) return ok;
  if (auto ok = fs_.writeNew(tmp, bytes, mode); !ok) return ok;
  if (auto ok = fs_.rename(tmp, file); !ok) return ok;
  return fs_.syncDir(file.parent_path());
}

Status AccountStore::saveKey(const std::string& url, const std::string& pem) {
  if (auto ok = replace(dir(url) / "key.pem", pem, 0600); !ok) return wrap("save the ACME account key", ok.error());
  return {};
}

std::optional<std::string> AccountStore::accountUrl(const std::string& url) {
  auto u = fs_.readFile(dir(url) / "account-url");
  if (!u || u->empty()) return std::nullopt;
  return *u;
}

Status AccountStore::saveAccountUrl(const std::string& url, const std::string& accountUrl) {
  if (auto ok = replace(dir(url) / "account-url", accountUrl, 0600); !ok) return wrap("save the ACME account", ok.error());
  return {};
}

Status AccountStore::forgetAccountUrl(const std::string& url) {
  if (auto ok = fs_.remove(dir(url) / "account-url"); !ok) return wrap("forget the ACME account", ok.error());
  return fs_.syncDir(dir(url));
}

}  // namespace sc::store
