#include "store/views.h"

#include "log/log.h"

namespace sc::store {

namespace {

// A temporary link at the volume's root, renamed over the view it replaces.
constexpr const char* kTempSuffix = ".sidecert-tmp";

bool endsWith(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

Views::Views(FileSystem& fs, Path volume, ViewOptions options)
    : fs_(fs), volume_(std::move(volume)), options_(options) {}

Status Views::update(const std::vector<LineageEntry>& lineages) {
  std::lock_guard lock(mutex_);
  Status first;
  auto note = [&](Status s, const std::string& what) {
    if (s) return;
    log::error("gateway_view_failed", {{"view", what}, {"error", s.error().message}});
    if (first) first = wrap("keep the gateway view " + what, s.error());
  };
  note(writeKept(kNginxMapFile, nginxSniMap(lineages)), kNginxMapFile);
  note(writeKept(kHaproxyListFile, haproxyCrtList(lineages)), kHaproxyListFile);
  if (options_.nginxProxyLinks) {
    bool changed = false;
    note(keepLinks(lineages, changed), "nginx-proxy links");
    if (changed) note(fs_.syncDir(volume_), "nginx-proxy links");
  }
  return first;
}

// A file sidecert keeps (it starts with kKeptHeader), replaced whole when its
// content changes; anything else at that path is left as it is.
Status Views::writeKept(const std::string& rel, const std::string& content) {
  const Path file = volume_ / rel;
  const Path dir = file.parent_path();
  if (auto ok = fs_.makeDir(dir, 0755); !ok) return ok;
  auto kind = fs_.kind(file);
  if (!kind) return std::unexpected(kind.error());
  if (*kind == EntryKind::File) {
    auto current = fs_.readFile(file);
    if (!current) return std::unexpected(current.error());
    if (*current == content) return {};
    if (current->rfind(kKeptHeader, 0) != 0) {
      reportOnce(rel, "a file sidecert did not write");
      return {};
    }
  } else if (*kind != EntryKind::Missing) {
    reportOnce(rel, "something other than a file sidecert wrote");
    return {};
  }
  const Path tmp = dir / ("." + file.filename().string() + kTempSuffix);
  if (auto ok = fs_.remove(tmp); !ok) return ok;
  if (auto ok = fs_.writeNew(tmp, content, 0644); !ok) return ok;
  if (auto ok = fs_.rename(tmp, file); !ok) return ok;
  reported_.erase(rel);
  return fs_.syncDir(dir);
}

Status Views::keepLinks(const std::vector<LineageEntry>& lineages, bool& changed) {
  const auto wanted = nginxProxyLinks(lineages);
  Status first;
  for (const auto& [file, target] : wanted)
    if (auto ok = keepLink(file, target, changed); !ok && first) first = ok;
  if (auto ok = removeStaleLinks(wanted, changed); !ok && first) first = ok;
  return first;
}

Status Views::keepLink(const std::string& file, const std::string& target, bool& changed) {
  const Path at = volume_ / file;
  auto kind = fs_.kind(at);
  if (!kind) return std::unexpected(kind.error());
  if (*kind == EntryKind::Missing) {
    // Made in place: symlinkat fails if anything appeared there since the look.
    if (auto ok = fs_.symlink(target, at); !ok) return ok;
    changed = true;
    reported_.erase(file);
    return {};
  }
  if (*kind != EntryKind::Symlink) {
    reportOnce(file, "a user's own file");
    return {};
  }
  auto current = fs_.readLink(at);
  if (!current) return std::unexpected(current.error());
  if (*current == target) return {};
  if (isAcmeCompanionLinkTarget(*current)) {
    log::info("gateway_view_taken_over", {{"file", file}, {"was", *current}, {"now", target}});
  } else if (!isViewLinkTarget(*current)) {
    reportOnce(file, "a link sidecert did not make (to " + current->substr(0, 200) + ")");
    return {};
  }
  const Path tmp = volume_ / ("." + file + kTempSuffix);
  if (auto ok = fs_.remove(tmp); !ok) return ok;
  if (auto ok = fs_.symlink(target, tmp); !ok) return ok;
  if (auto ok = fs_.rename(tmp, at); !ok) return ok;
  changed = true;
  return {};
}

// Links of our shape whose host no lineage has any more, and temporary links a
// crash left; nothing else at the volume's root is looked at twice.
Status Views::removeStaleLinks(const std::map<std::string, std::string>& wanted, bool& changed) {
  auto entries = fs_.list(volume_);
  if (!entries) return std::unexpected(entries.error());
  for (const auto& e : *entries) {
    const bool temp = e.size() > 1 && e.front() == '.' && endsWith(e, kTempSuffix);
    if (!temp && (wanted.count(e) || !isViewFileName(e))) continue;
    const Path p = volume_ / e;
    if (fs_.kind(p).value_or(EntryKind::Other) != EntryKind::Symlink) continue;
    auto target = fs_.readLink(p);
    if (!target || !isViewLinkTarget(*target)) continue;
    if (auto ok = fs_.remove(p); !ok) return ok;
    changed = true;
  }
  return {};
}

void Views::reportOnce(const std::string& file, const std::string& why) {
  if (!reported_.insert(file).second) return;
  log::warn("gateway_view_left_alone", {{"file", file}, {"reason", why}, {"kept", "sidecert does not replace it"}});
}

}  // namespace sc::store
