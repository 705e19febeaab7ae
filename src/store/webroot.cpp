#include "store/webroot.h"

#include <unistd.h>

#include <algorithm>
#include <sstream>

#include "store/state.h"

namespace sc::store {
namespace {

constexpr std::size_t kMaxToken = 256;
// A lineage has one token per name in flight; a longer record is not ours.
constexpr std::size_t kMaxListed = 1000;
// A key authorization is token "." thumbprint: under 300 bytes.
constexpr std::size_t kMaxKeyAuthorization = 1024;
// The gateway's user is not sidecert's: it reads the token as "others".
constexpr mode_t kTokenMode = 0644;
constexpr mode_t kFolderMode = 0755;

bool isBase64Url(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

// Written under this name first: hidden, and never a token's (a token has no dot).
std::string tempName(const std::string& token) { return ".sidecert-" + token + ".tmp"; }

Path normalFolder(const Path& dir) {
  Path d = dir.lexically_normal();
  return d.has_filename() || d == d.root_path() ? d : d.parent_path();
}

}  // namespace

bool isWebrootToken(const std::string& token) {
  return !token.empty() && token.size() <= kMaxToken && isBase64Url(token);
}

Webroot::Webroot(FileSystem& fs, Path dir, Path record)
    : fs_(fs),
      dir_(normalFolder(dir)),
      challengeDir_(dir_ / ".well-known" / "acme-challenge"),
      record_(std::move(record)) {}

Status Webroot::refuseLink(const Path& p) {
  auto kind = fs_.kind(p);
  if (!kind) return std::unexpected(kind.error());
  if (*kind == EntryKind::Symlink) {
    auto target = fs_.readLink(p);
    return fail("http-01 webroot: " + p.string() + " is a symbolic link" +
                    (target ? " (to " + *target + ")" : std::string()) +
                    ", not a folder: sidecert never writes through a link in the webroot, which the gateway "
                    "shares; remove it and sidecert makes the folder",
                ELOOP);
  }
  if (*kind != EntryKind::Missing && *kind != EntryKind::Directory)
    return fail("http-01 webroot: " + p.string() + " is not a folder; remove it and sidecert makes the folder",
                ENOTDIR);
  return {};
}

Error Webroot::explained(Error e) const {
  if (e.code == EACCES || e.code == EPERM)
    e.message += " (sidecert runs as uid " + std::to_string(::geteuid()) +
                 " without CAP_DAC_OVERRIDE: the webroot and its .well-known/acme-challenge must be writable by "
                 "that user, as a named volume is by root)";
  return e;
}

Status Webroot::prepare() {
  if (auto ok = fs_.makeDir(dir_, kFolderMode); !ok) return std::unexpected(explained(ok.error()));
  for (const Path& folder : {dir_ / ".well-known", challengeDir_}) {
    if (auto ok = refuseLink(folder); !ok) return ok;
    if (auto ok = fs_.makeDir(folder, kFolderMode); !ok) return std::unexpected(explained(ok.error()));
  }
  return {};
}

Status Webroot::write(const std::string& token, const std::string& keyAuthorization) {
  if (!isWebrootToken(token))
    return fail("http-01 webroot: the CA's token '" + token.substr(0, 40) +
                "' is not base64url (RFC 8555 8.3); no file is made of it", EINVAL);
  if (keyAuthorization.empty() || keyAuthorization.size() > kMaxKeyAuthorization)
    return fail("http-01 webroot: the key authorization for token " + token + " is empty or too long", EINVAL);
  if (auto ok = prepare(); !ok) return ok;
  auto tokens = listed();
  if (std::find(tokens.begin(), tokens.end(), token) == tokens.end()) {
    tokens.push_back(token);
    if (auto ok = saveListed(tokens); !ok) return ok;  // listed before the file exists
  }
  Path temp = challengeDir_ / tempName(token);
  if (auto ok = fs_.remove(temp); !ok) return ok;
  if (auto ok = fs_.writeNew(temp, keyAuthorization, kTokenMode); !ok) return std::unexpected(explained(ok.error()));
  if (auto ok = fs_.rename(temp, fileOf(token)); !ok) {
    (void)fs_.remove(temp);  // the rename's error is the one to report
    return ok;
  }
  if (auto ok = fs_.syncDir(challengeDir_); !ok) return ok;
  auto back = fs_.readFile(fileOf(token));
  if (!back) return std::unexpected(back.error());
  if (*back != keyAuthorization)
    return fail("http-01 webroot: " + fileOf(token).string() + " changed after it was written (something else "
                "writes in the webroot)");
  return {};
}

Status Webroot::remove(const std::string& token) {
  if (!isWebrootToken(token)) return {};  // never written, never listed
  for (const Path& p : {fileOf(token), challengeDir_ / tempName(token)})
    if (auto ok = fs_.remove(p); !ok) {
      int e = ok.error().code;
      if (e != ENOENT && e != ENOTDIR) return ok;  // kept in the record, removed next time
    }
  auto tokens = listed();
  auto left = std::remove(tokens.begin(), tokens.end(), token);
  if (left == tokens.end()) return {};
  tokens.erase(left, tokens.end());
  return saveListed(tokens);
}

Status Webroot::removeLeftovers() {
  Status result;
  for (const auto& token : listed())
    if (auto ok = remove(token); !ok && result) result = ok;
  return result;
}

std::vector<std::string> Webroot::listed() {
  std::vector<std::string> out;
  auto text = fs_.readFile(record_);
  if (!text) return out;
  std::istringstream lines(*text);
  std::string line;
  while (std::getline(lines, line) && out.size() < kMaxListed)
    if (isWebrootToken(line) && std::find(out.begin(), out.end(), line) == out.end()) out.push_back(line);
  return out;
}

Status Webroot::saveListed(const std::vector<std::string>& tokens) {
  if (tokens.empty()) return fs_.remove(record_);
  std::string text;
  for (const auto& t : tokens) text += t + "\n";
  return replaceFile(fs_, record_, text, "record the webroot's tokens in " + record_.string());
}

}  // namespace sc::store
