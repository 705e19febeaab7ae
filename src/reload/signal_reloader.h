#pragma once
#include <string>
#include <sys/types.h>
#include <vector>

#include "reload/reloader.h"

namespace sc::reload {

struct ProcessInfo {
  pid_t pid = 0;
  pid_t ppid = 0;
  std::string comm;   // the kernel's name, at most 15 characters
  std::string argv0;  // base name of the first argument
};

// The processes sidecert can see and signal: /proc in production, a list in tests.
class ProcessTable {
 public:
  virtual ~ProcessTable() = default;
  virtual std::vector<ProcessInfo> list() = 0;
  virtual Status signal(pid_t pid, int sig) = 0;
};

class ProcTable final : public ProcessTable {
 public:
  std::vector<ProcessInfo> list() override;
  Status signal(pid_t pid, int sig) override;
};

// Signals the top process of a name — the one whose parent has another name —
// so nginx's master gets SIGHUP and its workers are left to it. Works across
// containers that share a PID namespace (compose: pid: "service:gateway").
class SignalReloader final : public Reloader {
 public:
  SignalReloader(ProcessTable& processes, std::string name, int sig);
  Status reload(const ReloadEvent& event) override;
  std::string describe() const override;

 private:
  bool matches(const ProcessInfo& p) const;
  ProcessTable& processes_;
  std::string name_;
  int signal_;
};

}  // namespace sc::reload
