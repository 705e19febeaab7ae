#pragma once
// An ACME account's pace (renew/account_pace.h), kept in the state folder as
// pace-<CA>.json, written whole or not at all like each lineage's state: the
// orders counted there are what a restart, or a crash, still counts.
#include <string>

#include "core/clock.h"
#include "renew/account_pace.h"
#include "store/fs.h"

namespace sc::store {

struct PaceReading {
  renew::PaceRecord record;
  std::string problem;  // "" when read as written; else what was wrong and what is assumed instead
};

class PaceFile {
 public:
  // stateDir: SIDECERT_STATE_DIR; directoryUrl: the CA's, one file per account.
  PaceFile(FileSystem& fs, Path stateDir, const std::string& directoryUrl);
  // A missing file is a fresh account. One that cannot be read or parsed, or an
  // entry that is no time, is read conservatively: as if the window were full
  // (each unreadable order counts as placed at `now`), never as no orders.
  PaceReading load(const renew::PaceLimits& limits, TimePoint now);
  Status save(const renew::PaceRecord& record);
  const Path& file() const { return file_; }

 private:
  FileSystem& fs_;
  Path file_;
};

}  // namespace sc::store
