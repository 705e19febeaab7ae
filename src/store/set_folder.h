#pragma once
// A folder holding one set's files: how published sets (store/volume.h) and the
// held reserve (store/held_set.h) write and read them, with the same modes and
// the same meta.json, so that both stay byte for byte what they always were.
#include <optional>
#include <string>

#include "core/clock.h"
#include "store/cert_files.h"
#include "store/fs.h"

namespace sc::store {

// Who owns the files a set publishes in the volume, and their modes (settable for
// a gateway that runs as another user). The key is never more open than asked.
struct Publishing {
  std::optional<uid_t> owner;     // every published file
  std::optional<gid_t> keyGroup;  // the key's (and combined.pem's) group
  std::optional<mode_t> keyMode;  // unset: 0600, or 0640 with a key group
  mode_t certMode = 0644;         // cert.pem, chain.pem, fullchain.pem
  mode_t modeOf(const std::string& file) const;
  // inVolume: a set the gateway reads, whose files get the owner; our own copies keep ours.
  FileOwner ownerOf(const std::string& file, bool inVolume) const;
};

// meta.json: where a set came from and when it was published.
struct SetMeta {
  std::optional<Source> source;
  std::optional<TimePoint> published;
};
std::string metaJson(Source source, TimePoint published);
SetMeta parseMeta(const std::string& json);  // fields it cannot read are unset

// A published file's bytes: one of the four, or the combined file made of them.
std::string bytesOf(const CertFiles& files, const std::string& file);

// The four files of a set folder.
Result<CertFiles> readSetFolder(FileSystem& fs, const Path& dir);
// Writes `final` whole: into final.tmp, synced, then renamed (a reader or a crash
// never sees half of it). meta, when given, is written beside the files.
Status writeSetFolder(FileSystem& fs, const Publishing& publishing, const Path& final, const CertFiles& files,
                      mode_t dirMode, const std::string* meta, bool inVolume);

}  // namespace sc::store
