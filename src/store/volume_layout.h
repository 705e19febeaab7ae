#pragma once
// Where one lineage's files are, in the shared volume and in sidecert's state
// folder. The layout is a contract (CONTRACT.md "The volume"): gateways read it,
// and older sidecerts left their files in it. Every piece of the store that writes
// a lineage's files (store/volume.h, user_drops.h, held_set.h, revocation_marks.h)
// takes its paths from here, so the layout is written down once:
//
//   live/<name>                  -> ../archive/<name>/set-000042   (one relative link)
//   archive/<name>/set-000042/   privkey.pem 0600, cert.pem, chain.pem, fullchain.pem
//   aside/<time>-<why>-<name>/   user files refused or superseded: moved, never deleted
//   <state>/                     0700: our state (SIDECERT_STATE_DIR)
//     sets/<name>/set-000042/    the same files as we wrote them, and meta.json;
//                                what tells our files from a user's, across restarts
//       .../revoked              the set was revoked: kept, no longer used
//     pending/<name>/            user files taken out of live/, waiting for the rest
//     held/<name>/               an ACME set in reserve for when the user's certificate ends
#include <string>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "store/fs.h"

namespace sc::store {

struct VolumeLayout {
  Path root;      // the shared volume
  Path stateDir;  // sidecert's own folder
  std::string name;

  std::string liveRelative() const { return "live/" + name; }
  Path live() const { return root / "live" / name; }
  Path archive() const { return root / "archive" / name; }
  Path asideDir() const { return root / "aside"; }
  Path sets() const { return stateDir / "sets" / name; }  // our copies, with meta.json
  Path pending() const { return stateDir / "pending" / name; }
  Path held() const { return stateDir / "held" / name; }

  // Every folder the lineage uses, parents first, with the mode it is made with.
  std::vector<std::pair<Path, mode_t>> folders() const;
  // What live/<name> holds for a set: ../archive/<name>/<id>.
  std::string linkTo(const std::string& id) const { return "../archive/" + name + "/" + id; }
  // The set id a live/<name> link target names, if it has the shape of ours; "".
  std::string setIdOfLink(const std::string& target) const;
};

// Set ids are "set-" and 6 to 9 digits, as Volume makes them (a billion sets is
// never reached); a name outside that, whoever made it, is never read as a number.
bool isSetId(const std::string& name);

// A new folder aside/<time>-<why>-<name>[-n]/ for files moved out of the way.
Result<Path> newAsideFolder(FileSystem& fs, const VolumeLayout& layout, const std::string& why, TimePoint now);

}  // namespace sc::store
