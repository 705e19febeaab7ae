#pragma once
// A lineage's published sets in the shared volume, in certbot's layout
// (store/volume_layout.h), published so that a reader never sees a key beside the
// wrong certificate: a new set is written in full to new folders, then one rename
// swaps the live/<name> link. Old sets are retired from the archive.
//
// The other pieces over the same folders: user drops (store/user_drops.h), the
// held reserve (store/held_set.h), revocation marks (store/revocation_marks.h).
#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "store/cert_files.h"
#include "store/fs.h"
#include "store/set_folder.h"
#include "store/volume_layout.h"

namespace sc::store {

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
  // which holds what sidecert wrote (sets/).
  Volume(FileSystem& fs, Path root, Path stateDir, std::string name, Publishing publishing = {});

  const Path& root() const { return layout_.root; }
  const std::string& name() const { return layout_.name; }
  std::string liveRelative() const { return layout_.liveRelative(); }
  // For the other pieces over the same folders (user drops, the held reserve,
  // revocation marks): the file system, the layout and the modes this one uses.
  FileSystem& fileSystem() const { return fs_; }
  const VolumeLayout& layout() const { return layout_; }
  const Publishing& publishing() const { return publishing_; }

  // Makes every folder of the layout, and moves state an older sidecert kept in
  // the volume to the state folder.
  Status prepare();
  Result<LiveView> inspect();
  Result<std::optional<SetRecord>> latestSet();  // what we published last
  Result<CertFiles> readSet(const std::string& id);
  Result<SetRecord> publish(const CertFiles& files, Source source, TimePoint now);
  // Removes live/<name> when it is our link (a retired lineage): the sets stay in
  // the archive. A user's files or a link someone else made stay. True: removed.
  Result<bool> withdrawLive();
  // Whether live/<name> holds a set (a link or a folder): looked at once, then
  // kept by this volume's publish, inspect and withdrawLive, which see every
  // change a pass makes or notices. The gateway views ask it of every lineage
  // after each publish: a look each time made one `once` over 1,000 lineages
  // spend half its time on 2 million lookups (bench/README.md, profile 2026-12-06).
  // Any thread.
  Result<bool> holdsSet();
  // Puts back files of our current set that someone removed or replaced.
  Status restoreFiles(const SetRecord& set, const std::vector<std::string>& files);
  // A file as a gateway reading live/<name>/ sees it (links followed only inside the volume).
  Result<std::string> readLiveFile(const std::string& file);

  // A set that is not published (a CA's certificate that failed the checks), kept
  // for a person to look at; returns where, relative to the volume.
  Result<std::string> keepAside(const CertFiles& files, const std::string& why, TimePoint now);

 private:
  Result<std::string> nextId();
  Status swapLink(const std::string& id, TimePoint now);
  Status collectGarbage(TimePoint now);
  Status removeLeftovers();
  Status retireArchiveFolder(const std::string& id, TimePoint now);
  Result<std::vector<std::string>> setIds(const Path& dir);
  Status replaceFile(const Path& dir, const std::string& file, const std::string& bytes, bool inVolume);

  void noteLive(EntryKind kind);

  FileSystem& fs_;
  VolumeLayout layout_;
  Publishing publishing_;
  enum LiveSeen : int { kNotLooked, kHoldsSet, kHoldsNone };
  std::atomic<int> liveSeen_{kNotLooked};  // holdsSet's memory
};

// Old sets stay on disk for readers that resolved the link just before a swap:
// always the last three, and any set replaced less than a minute ago.
inline constexpr std::size_t kKeptSets = 3;
inline constexpr std::chrono::seconds kRetireAfter{60};

}  // namespace sc::store
