#include "reload/signal_reloader.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <map>
#include <sstream>

#include "config/settings.h"

namespace sc::reload {
namespace {

constexpr std::size_t kCommLength = 15;  // TASK_COMM_LEN less its NUL

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces and parentheses.
bool parseStat(const std::string& stat, ProcessInfo& p) {
  auto open = stat.find('('), close = stat.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open) return false;
  p.comm = stat.substr(open + 1, close - open - 1);
  std::istringstream rest(stat.substr(close + 1));
  std::string state;
  return static_cast<bool>(rest >> state >> p.ppid);
}

}  // namespace

std::vector<ProcessInfo> ProcTable::list() {
  std::vector<ProcessInfo> out;
  DIR* dir = ::opendir("/proc");
  if (!dir) return out;
  while (dirent* e = ::readdir(dir)) {
    std::string name = e->d_name;
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    ProcessInfo p;
    p.pid = std::stoi(name);
    if (!parseStat(readFile("/proc/" + name + "/stat"), p)) continue;  // gone meanwhile
    std::string cmdline = readFile("/proc/" + name + "/cmdline");
    std::string arg0 = cmdline.substr(0, cmdline.find('\0'));
    p.argv0 = arg0.substr(arg0.rfind('/') == std::string::npos ? 0 : arg0.rfind('/') + 1);
    out.push_back(std::move(p));
  }
  ::closedir(dir);
  return out;
}

Status ProcTable::signal(pid_t pid, int sig) {
  if (::kill(pid, sig) != 0) return failErrno("send " + signalName(sig) + " to", "process " + std::to_string(pid));
  return {};
}

SignalReloader::SignalReloader(ProcessTable& processes, std::string name, int sig)
    : processes_(processes), name_(std::move(name)), signal_(sig) {}

std::string SignalReloader::describe() const { return "signal:" + name_ + ":" + signalName(signal_); }

// The whole name: the kernel's comm where the name fits its 15 characters, else
// the program's file name; a long name is never matched by its first 15 alone.
bool SignalReloader::matches(const ProcessInfo& p) const {
  return (name_.size() <= kCommLength && p.comm == name_) || p.argv0 == name_;
}

Status SignalReloader::reload(const ReloadEvent&) {
  auto all = processes_.list();
  std::map<pid_t, const ProcessInfo*> byPid;
  for (const auto& p : all) byPid[p.pid] = &p;
  std::vector<pid_t> tops;
  for (const auto& p : all) {
    if (p.pid == ::getpid() || !matches(p)) continue;
    auto parent = byPid.find(p.ppid);
    if (parent == byPid.end() || !matches(*parent->second)) tops.push_back(p.pid);
  }
  if (tops.empty())
    return fail("no process named '" + name_ +
                "' is visible: sidecert must share the gateway's PID namespace (compose: pid: \"service:gateway\")");
  for (pid_t pid : tops)
    if (auto ok = processes_.signal(pid, signal_); !ok) return ok;
  return {};
}

}  // namespace sc::reload
