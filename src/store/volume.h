#pragma once
// The shared volume, in certbot's layout, published so that a reader never sees a
// key beside the wrong certificate:
//
//   live/<name>                  -> ../archive/<name>/set-000042   (one relative link)
//   archive/<name>/set-000042/   privkey.pem 0600, cert.pem, chain.pem, fullchain.pem
//   sidecert/                    0700: our state
//     sets/<name>/set-000042/    the same files as we wrote them, and meta.json;
//                                what tells our files from a user's, across restarts
//     pending/<name>/            user files taken out of live/, waiting for the rest
//     held/<name>/               an ACME set in reserve for when the user's certificate ends
//     aside/<time>-<why>-<name>/ user files refused or superseded: moved, never deleted
//
// A new set is written in full to new folders, then one rename swaps the link.
#include <map>
#include <optional>
#include <string>
#include <vector>

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
};

struct SetRecord {
  std::string id;  // set-000042
  Source source = Source::SelfSigned;
};

struct LiveView {
  enum class Link { Ours, Foreign, Missing };
  Link link = Link::Missing;
  bool linkIsSymlink = false;        // Foreign: a link someone else made, not a folder
  std::optional<SetRecord> set;      // Ours: the set live/<name> points to
  std::vector<std::string> foreign;  // set files that are not what we wrote
  std::vector<std::string> missing;  // Ours: set files that are gone
};

class Volume {
 public:
  // root: the shared volume; stateDir: sidecert's own folder (SIDECERT_STATE_DIR),
  // which holds what sidecert wrote (sets/) and user files waiting (pending/).
  Volume(FileSystem& fs, Path root, Path stateDir, std::string name, Publishing publishing = {});

  const Path& root() const { return root_; }
  const std::string& name() const { return name_; }
  std::string liveRelative() const { return "live/" + name_; }

  Status prepare();
  Result<LiveView> inspect();
  Result<std::optional<SetRecord>> latestSet();  // what we published last
  Result<CertFiles> readSet(const std::string& id);
  // A set the CA revoked: kept, marked, and no longer used.
  Status markRevoked(const std::string& id, TimePoint now);
  bool isRevoked(const std::string& id);
  Result<SetRecord> publish(const CertFiles& files, Source source, TimePoint now);
  // Puts back files of our current set that someone removed or replaced.
  Status restoreFiles(const SetRecord& set, const std::vector<std::string>& files);

  // User files.
  Result<std::string> readLiveFile(const std::string& file);
  // Copies a live file's bytes into pending/ and, unless told to keep it, removes
  // the live entry (its bytes are safe in pending/).
  Status takeIntoPending(const std::string& file, const std::string& bytes, TimePoint now, bool removeOriginal);
  Result<std::map<std::string, std::string>> pending();
  // Moves these live entries (or, for a foreign link, the link itself) aside.
  Result<std::string> moveLiveAside(const LiveView& view, const std::vector<std::string>& files,
                                    const std::string& why, TimePoint now);
  Result<std::string> movePendingAside(const std::string& why, TimePoint now);
  // An ACME set kept in reserve in the state folder while a user certificate serves,
  // to be published the moment that one ends. One per lineage; none is no error.
  Status hold(const CertFiles& files, Source source);
  Result<std::optional<std::pair<Source, CertFiles>>> held();
  Status releaseHeld();

  // A set that is not published (a CA's certificate that failed the checks), kept
  // for a person to look at; returns where, relative to the volume.
  Result<std::string> keepAside(const CertFiles& files, const std::string& why, TimePoint now);

 private:
  Path live() const { return root_ / "live" / name_; }
  Path archive() const { return root_ / "archive" / name_; }
  Path canonical() const { return stateDir_ / "sets" / name_; }
  Path pendingDir() const { return stateDir_ / "pending" / name_; }
  Path heldDir() const { return stateDir_ / "held" / name_; }
  Path asideDir() const { return root_ / "aside"; }
  Result<Path> newAsideFolder(const std::string& why, TimePoint now);
  Path liveEntry(const std::string& file);
  std::string linkTo(const std::string& id) const;  // what live/<name> holds: ../archive/<name>/<id>
  std::string setIdOfLink(const std::string& target) const;
  Result<std::string> nextId();
  Result<CertFiles> readSetFolder(const Path& dir);
  // inVolume: a set the gateway reads, whose files get the owner; our own copies keep ours.
  Status writeSetFolder(const Path& final, const CertFiles& files, mode_t dirMode, const std::string* meta,
                        bool inVolume);
  Status swapLink(const std::string& id, TimePoint now);
  Status collectGarbage(TimePoint now);
  Status removeLeftovers();
  Status retireArchiveFolder(const std::string& id, TimePoint now);
  Result<std::vector<std::string>> setIds(const Path& dir);
  Status replaceFile(const Path& dir, const std::string& file, const std::string& bytes, bool inVolume);
  FileOwner ownerOf(const std::string& file, bool inVolume) const;

  FileSystem& fs_;
  Path root_;
  Path stateDir_;
  std::string name_;
  Publishing publishing_;
};

// Old sets stay on disk for readers that resolved the link just before a swap:
// always the last three, and any set replaced less than a minute ago.
inline constexpr std::size_t kKeptSets = 3;
inline constexpr std::chrono::seconds kRetireAfter{60};

}  // namespace sc::store
