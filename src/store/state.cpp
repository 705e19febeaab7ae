#include "store/state.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <sstream>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "core/time_format.h"
#include "store/json_fields.h"

namespace sc::store {

namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

// The state file is read defensively: a field of the wrong type or size is dropped.
constexpr std::size_t kMaxRemembered = 1000;  // orders per CA, names per order

std::vector<std::string> stringList(const Object::Ptr& o, const std::string& key) {
  std::vector<std::string> out;
  if (!o->isArray(key)) return out;
  auto arr = o->getArray(key);
  for (unsigned i = 0; i < arr->size() && out.size() < kMaxRemembered; ++i)
    if (arr->get(i).isString()) out.push_back(arr->get(i).extract<std::string>());
  return out;
}

renew::OrderLedger ledgerFrom(const Object::Ptr& o) {
  renew::OrderLedger l;
  for (const auto& t : stringList(o, "orders"))
    if (auto at = parseTime(t)) l.orders.push_back(*at);
  if (o->has("failures") && o->get("failures").isInteger())
    l.failures = static_cast<int>(std::clamp<Poco::Int64>(o->get("failures").convert<Poco::Int64>(), 0, 1000));
  l.retryAt = timeField(o, "retry_at");
  l.lastError = stringField(o, "last_error");
  l.waitUntil = timeField(o, "wait_until");
  l.waitingFor = stringField(o, "waiting_for");
  return l;
}

Object ledgerJson(const renew::OrderLedger& l) {
  Object o(Poco::JSON_PRESERVE_KEY_ORDER);
  Array orders;
  for (auto t : l.orders) orders.add(formatTime(t));
  o.set("orders", orders);
  o.set("failures", l.failures);
  if (l.retryAt) o.set("retry_at", formatTime(*l.retryAt));
  o.set("last_error", l.lastError);
  if (l.waitUntil) {
    o.set("wait_until", formatTime(*l.waitUntil));
    o.set("waiting_for", l.waitingFor);
  }
  return o;
}

}  // namespace

StateStore::StateStore(FileSystem& fs, Path root, std::string name)
    : fs_(fs), root_(std::move(root)), name_(std::move(name)) {}

LineageState StateStore::load() {
  LineageState state;
  auto text = fs_.readFile(file());
  if (!text) return state;
  try {
    auto v = Poco::JSON::Parser().parse(*text);
    if (v.type() != typeid(Object::Ptr)) return state;
    auto obj = v.extract<Object::Ptr>();
    state.nextCheck = timeField(obj, "next_check");
    state.reloadPending = obj->has("reload_pending") && obj->get("reload_pending").isBoolean() &&
                          obj->get("reload_pending").extract<bool>();
    if (obj->isObject("ledgers")) {
      auto ledgers = obj->getObject("ledgers");
      for (const auto& [id, _] : *ledgers)
        if (ledgers->isObject(id) && state.ledgers.size() < kMaxRemembered)
          state.ledgers[id] = ledgerFrom(ledgers->getObject(id));
    }
    if (obj->isObject("pending_order")) {
      auto p = obj->getObject("pending_order");
      PendingOrder order{stringField(p, "ca"), stringField(p, "url"), stringList(p, "names"), stringField(p, "key")};
      if (!order.ca.empty() && !order.url.empty() && !order.names.empty() && !order.keyPem.empty())
        state.pendingOrder = order;
    }
    state.lastExpiryWarning = timeField(obj, "last_expiry_warning");
    state.lastIssuance = timeField(obj, "last_issuance");
    if (obj->has("reload_failures") && obj->get("reload_failures").isInteger())
      state.reloadFailures =
          static_cast<int>(std::clamp<Poco::Int64>(obj->get("reload_failures").convert<Poco::Int64>(), 0, 1000000));
    state.lastReloadError = stringField(obj, "last_reload_error");
    if (obj->isObject("ari")) {
      auto a = obj->getObject("ari");
      if (auto ask = timeField(a, "ask_again_at"))
        state.ari = AriMemory{stringField(a, "set"), timeField(a, "renew_at"), *ask};
    }
  } catch (const Poco::Exception&) {
  }
  return state;
}

Status StateStore::save(const LineageState& state) {
  Object obj(Poco::JSON_PRESERVE_KEY_ORDER);
  if (state.nextCheck) obj.set("next_check", formatTime(*state.nextCheck));
  obj.set("reload_pending", state.reloadPending);
  Object ledgers(Poco::JSON_PRESERVE_KEY_ORDER);
  for (const auto& [id, l] : state.ledgers) ledgers.set(id, ledgerJson(l));
  obj.set("ledgers", ledgers);
  if (state.pendingOrder) {
    Object p(Poco::JSON_PRESERVE_KEY_ORDER);
    p.set("ca", state.pendingOrder->ca);
    p.set("url", state.pendingOrder->url);
    Array names;
    for (const auto& n : state.pendingOrder->names) names.add(n);
    p.set("names", names);
    p.set("key", state.pendingOrder->keyPem);
    obj.set("pending_order", p);
  }
  if (state.ari) {
    Object a(Poco::JSON_PRESERVE_KEY_ORDER);
    a.set("set", state.ari->setId);
    if (state.ari->renewAt) a.set("renew_at", formatTime(*state.ari->renewAt));
    a.set("ask_again_at", formatTime(state.ari->askAgainAt));
    obj.set("ari", a);
  }
  if (state.lastExpiryWarning) obj.set("last_expiry_warning", formatTime(*state.lastExpiryWarning));
  if (state.lastIssuance) obj.set("last_issuance", formatTime(*state.lastIssuance));
  obj.set("reload_failures", state.reloadFailures);
  if (!state.lastReloadError.empty()) obj.set("last_reload_error", state.lastReloadError);
  std::ostringstream out;
  obj.stringify(out);
  return replaceFile(fs_, file(), out.str(), "save state");
}

Status replaceFile(FileSystem& fs, const Path& file, const std::string& data, const std::string& what) {
  Path tmp = file;
  tmp += ".tmp";
  if (auto ok = fs.remove(tmp); !ok) return ok;
  if (auto ok = fs.writeNew(tmp, data, 0600); !ok) return wrap(what, ok.error());
  if (auto ok = fs.rename(tmp, file); !ok) return wrap(what, ok.error());
  return fs.syncDir(file.parent_path());
}

Result<VolumeLock> VolumeLock::tryAcquire(FileSystem& fs, const Path& root) {
  Path path = root / "lock";
  auto opened = fs.openLock(path);
  if (!opened) return std::unexpected(opened.error());
  int fd = *opened;
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int e = errno;
    ::close(fd);
    if (e == EWOULDBLOCK) return fail("another sidecert holds " + path.string(), EWOULDBLOCK);
    errno = e;
    return failErrno("lock", path.string());
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
  }  // the PID is a convenience; the lock holds without it
  return VolumeLock(fd);
}

std::optional<int> VolumeLock::holder(FileSystem& fs, const Path& root) {
  if (fs.kind(root / "lock").value_or(EntryKind::Missing) != EntryKind::File) return std::nullopt;
  auto opened = fs.openLock(root / "lock");
  if (!opened) return std::nullopt;
  int fd = *opened;
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
