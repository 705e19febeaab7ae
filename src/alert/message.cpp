#include "alert/message.h"

#include <algorithm>

#include "core/time_format.h"

namespace sc::alert {
namespace {

std::string readable(std::string condition) {
  std::replace(condition.begin(), condition.end(), '_', ' ');
  return condition;
}

}  // namespace

Message messageFor(const Notice& n, const std::string& host, TimePoint now) {
  const Record& r = n.record;
  Message m;
  m.kind = n.kind;
  m.lineage = r.lineage;
  m.condition = conditionName(r.condition);
  m.severity = n.kind == NoticeKind::Clear ? "resolved" : severityName(r.latest.severity);
  m.summary = r.latest.summary;
  m.lastError = r.latest.lastError;
  m.advice = r.latest.advice;
  m.since = r.since;
  m.at = now;
  m.host = host;
  return m;
}

Message testMessage(const std::string& host, TimePoint now) {
  Message m;
  m.kind = NoticeKind::Test;
  m.severity = "test";
  m.summary = "a test alert from sidecert on " + host + ": this channel works";
  m.advice = "nothing: `sidecert test-alert` sent it to check the set-up";
  m.since = m.at = now;
  m.host = host;
  return m;
}

std::string Message::subject() const {
  std::string what = lineage + ": " + readable(condition);
  switch (kind) {
    case NoticeKind::Start: return "[sidecert] " + severity + ": " + what;
    case NoticeKind::Reminder: return "[sidecert] still " + severity + ": " + what;
    case NoticeKind::Clear: return "[sidecert] resolved: " + what;
    case NoticeKind::Test: return "[sidecert] test alert from " + host;
  }
  return "[sidecert]";
}

std::string Message::text() const {
  std::string t;
  if (kind == NoticeKind::Clear)
    t = "Resolved: " + readable(condition) + " of " + lineage + ", which began at " + formatTime(since) +
        ", ended by " + formatTime(at) + ".\nIt was: " + summary + "\n";
  else
    t = summary + "\n";
  if (kind != NoticeKind::Test) {
    t += "\ncertificate: " + lineage + " (live/" + lineage + "/)";
    t += "\ncondition:   " + condition + " (" + severity + "), since " + formatTime(since);
  }
  if (!lastError.empty()) t += "\nCA's last error: " + lastError;
  if (kind != NoticeKind::Clear) t += "\nwhat to do:  " + advice;
  t += "\nhost:        " + host + "\nat:          " + formatTime(at) + "\n";
  return t;
}

}  // namespace sc::alert
