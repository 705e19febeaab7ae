#pragma once
// The alert records, kept in the state folder (alerts.json) so that a restart
// loop neither repeats a notice nor forgets to send a clear.
#include <vector>

#include "alert/schedule.h"
#include "store/fs.h"

namespace sc::alert {

class RecordFile {
 public:
  RecordFile(store::FileSystem& fs, store::Path stateDir) : fs_(fs), file_(std::move(stateDir) / "alerts.json") {}
  // A missing or unreadable file is no records; what is malformed is dropped.
  std::vector<Record> load();
  Status save(const std::vector<Record>& records);

 private:
  store::FileSystem& fs_;
  store::Path file_;
};

}  // namespace sc::alert
