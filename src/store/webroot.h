#pragma once
// HTTP-01 by files (SIDECERT_HTTP01_WEBROOT=DIR): each token's key authorization
// written to DIR/.well-known/acme-challenge/<token>, which the gateway serves
// itself (nginx-proxy: `location ^~ /.well-known/acme-challenge/ { root DIR; }`).
//
// DIR is shared with the gateway, so it is hostile ground like the volume: every
// path goes through the FileSystem with DIR as one of its roots (store/posix_fs.h),
// which never follows a link or ".." beneath it. A link planted at .well-known or
// acme-challenge is refused with an error naming it, and a token must be base64url
// (RFC 8555 8.3) before it becomes a file name.
//
// Leftovers: a crash between writing a token and removing it would leave the file
// behind for good, and the folder may hold other clients' tokens (certbot,
// acme.sh) that are not sidecert's to remove. So each lineage keeps a record in
// the state folder of the tokens it wrote, listed before the file is made and
// struck after it is gone; removeLeftovers() removes what the record still lists.
#include <string>
#include <vector>

#include "store/fs.h"

namespace sc::store {

// Tokens are base64url, 1 to 256 characters (the ACME wire takes no more).
bool isWebrootToken(const std::string& token);

class Webroot {
 public:
  // `dir`: DIR, absolute; `record`: the file in the state folder listing this
  // lineage's tokens not yet removed.
  Webroot(FileSystem& fs, Path dir, Path record);

  // DIR/.well-known/acme-challenge made where missing (0755); an error naming
  // the path when either is a link or not a folder.
  Status prepare();
  // The token's file, 0644 so the gateway's user reads it: listed in the record,
  // written under a temporary name in the same folder, fsynced, renamed into
  // place, the folder fsynced, then read back beneath DIR: what the gateway will
  // serve. Written again (the same content) when present.
  Status write(const std::string& token, const std::string& keyAuthorization);
  // The token's file (and a temporary one a crash left) removed, then struck
  // from the record. A file already gone is fine.
  Status remove(const std::string& token);
  // Removes every token the record lists: what a crash or a failed removal left.
  Status removeLeftovers();

  const Path& challengeDir() const { return challengeDir_; }
  Path fileOf(const std::string& token) const { return challengeDir_ / token; }

 private:
  // The record's tokens, read within bounds; a hostile or broken line is dropped.
  std::vector<std::string> listed();
  Status saveListed(const std::vector<std::string>& tokens);
  Status refuseLink(const Path& p);
  // An error with what to do when sidecert's user may not write in the folder.
  Error explained(Error e) const;

  FileSystem& fs_;
  Path dir_;
  Path challengeDir_;
  Path record_;
};

}  // namespace sc::store
