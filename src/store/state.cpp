#include "store/state.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "core/time_format.h"

namespace sc::store {

StateStore::StateStore(FileSystem& fs, Path root, std::string name)
    : fs_(fs), root_(std::move(root)), name_(std::move(name)) {}

LineageState StateStore::load() {
  LineageState state;
  auto text = fs_.readFile(file());
  if (!text) return state;
  try {
    auto obj = Poco::JSON::Parser().parse(*text).extract<Poco::JSON::Object::Ptr>();
    state.nextCheck = parseTime(obj->optValue<std::string>("next_check", ""));
    state.reloadPending = obj->optValue<bool>("reload_pending", false);
    if (auto backoff = obj->getObject("backoff")) {
      for (const auto& [id, _] : *backoff) {
        auto b = backoff->getObject(id);
        auto at = parseTime(b->optValue<std::string>("next_attempt", ""));
        if (!at) continue;
        state.backoff[id] = Backoff{b->optValue<int>("failures", 1), *at, b->optValue<std::string>("last_error", "")};
      }
    }
  } catch (const Poco::Exception&) {
  }
  return state;
}

Status StateStore::save(const LineageState& state) {
  Poco::JSON::Object obj(Poco::JSON_PRESERVE_KEY_ORDER);
  if (state.nextCheck) obj.set("next_check", formatTime(*state.nextCheck));
  obj.set("reload_pending", state.reloadPending);
  Poco::JSON::Object backoff(Poco::JSON_PRESERVE_KEY_ORDER);
  for (const auto& [id, b] : state.backoff) {
    Poco::JSON::Object entry(Poco::JSON_PRESERVE_KEY_ORDER);
    entry.set("failures", b.failures);
    entry.set("next_attempt", formatTime(b.nextAttempt));
    entry.set("last_error", b.lastError);
    backoff.set(id, entry);
  }
  obj.set("backoff", backoff);
  std::ostringstream out;
  obj.stringify(out);
  Path tmp = file();
  tmp += ".tmp";
  if (auto ok = fs_.remove(tmp); !ok) return ok;
  if (auto ok = fs_.writeNew(tmp, out.str(), 0600, std::nullopt); !ok) return wrap("save state", ok.error());
  if (auto ok = fs_.rename(tmp, file()); !ok) return wrap("save state", ok.error());
  return fs_.syncDir(file().parent_path());
}

Result<VolumeLock> VolumeLock::tryAcquire(const Path& root) {
  Path path = root / "sidecert" / "lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return failErrno("open", path.string());
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int e = errno;
    ::close(fd);
    if (e == EWOULDBLOCK) return fail("another sidecert is managing " + root.string(), EWOULDBLOCK);
    errno = e;
    return failErrno("lock", path.string());
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
  }  // the PID is a convenience; the lock holds without it
  return VolumeLock(fd);
}

std::optional<int> VolumeLock::holder(const Path& root) {
  Path path = root / "sidecert" / "lock";
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return std::nullopt;
  bool held = ::flock(fd, LOCK_EX | LOCK_NB) != 0;
  char buf[32] = {0};
  ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  ::close(fd);
  if (!held || n <= 0) return std::nullopt;
  int pid = std::atoi(buf);
  return pid > 0 ? std::optional<int>(pid) : std::nullopt;
}

VolumeLock::~VolumeLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace sc::store
