#include "renew/account_pace.h"

#include <algorithm>

#include "core/duration.h"
#include "core/time_format.h"

namespace sc::renew {
namespace {

// A turn frees a moment after the window: the CA counts an order when it arrives,
// which is after sidecert counted it, so the first order of a window may reach it
// later than the last of the next (the nonce, the signature and the request's way
// there: tens of milliseconds, more on a loaded machine). A second at most, a tenth
// of a short window.
std::chrono::milliseconds slackOf(const PaceLimit& limit) {
  return std::min<std::chrono::milliseconds>(std::chrono::seconds(1), limit.window / 10);
}

// What falls inside the window ending at `now`; one ahead of the clock (the clock
// went back, or a hostile file) counts as now.
std::vector<TimePoint> inWindow(const std::vector<TimePoint>& times, std::chrono::seconds window, TimePoint now) {
  std::vector<TimePoint> out;
  for (auto t : times)
    if (t > now - window) out.push_back(std::min(t, now));
  std::sort(out.begin(), out.end());
  return out;
}

std::string plural(std::size_t n, const std::string& what) {
  return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
}

}  // namespace

bool moreUrgent(const Urgency& a, const Urgency& b) {
  if (!a.servesUntil) return b.servesUntil.has_value();
  return b.servesUntil && *a.servesUntil < *b.servesUntil;
}

TimePoint slotFor(std::vector<TimePoint> placed, const PaceLimit& limit, std::size_t k, TimePoint earliest,
                  TimePoint now) {
  TimePoint t = std::max(earliest, now);
  if (!limit.on()) return t;
  auto in = inWindow(placed, limit.window, now);
  auto count = static_cast<std::size_t>(limit.count);
  for (std::size_t j = 0;; ++j) {
    if (in.size() >= count) t = std::max(t, in[in.size() - count] + limit.window + slackOf(limit));
    if (j == k) return t;
    in.push_back(t);  // t is the latest so far: `in` stays sorted
  }
}

void PaceBook::enrol(const std::string& lineage, TimePoint now) {
  if (!waiters_.count(lineage)) unknown_.emplace(lineage, now);
}

std::size_t PaceBook::ahead(const std::string& lineage, const Urgency& urgency, TimePoint since, TimePoint now,
                            bool& unknownAhead, TimePoint& lastTurnAhead) const {
  std::size_t n = 0;
  for (const auto& [name, w] : waiters_) {
    if (name == lineage || w.at + kPaceStaleAfter < now) continue;
    bool first = moreUrgent(w.urgency, urgency) ||
                 (!moreUrgent(urgency, w.urgency) && (w.since < since || (w.since == since && name < lineage)));
    if (!first) continue;
    ++n;
    lastTurnAhead = std::max(lastTurnAhead, w.at);
  }
  unknownAhead = false;
  if (!urgency.servesUntil) return n;  // nothing unheard of can be more urgent than none yet
  for (const auto& [name, since] : unknown_)
    if (name != lineage && now < since + kPaceUnknownFor) {
      ++n;
      unknownAhead = true;
    }
  return n;
}

std::optional<PaceAnswer> PaceBook::namesGate(const std::vector<std::string>& names, TimePoint now) const {
  const auto& limit = limits_.failedValidations;
  if (!limit.on()) return std::nullopt;
  std::optional<PaceAnswer> gate;
  for (const auto& name : names) {
    auto it = record_.failedValidations.find(name);
    if (it == record_.failedValidations.end()) continue;
    auto in = inWindow(it->second, limit.window, now);
    if (in.size() < static_cast<std::size_t>(limit.count)) continue;
    auto freed = in[in.size() - static_cast<std::size_t>(limit.count)] + limit.window;
    if (!gate || freed > gate->at)
      gate = PaceAnswer{freed, "validation of " + name + " failed " + plural(in.size(), "time") + " in the last " +
                                   formatDuration(limit.window) + " (the CA allows " + std::to_string(limit.count) +
                                   "); not ordered again before " + formatTime(freed)};
  }
  return gate;
}

PaceAnswer PaceBook::ask(const std::string& lineage, const Urgency& urgency, const std::vector<std::string>& names,
                         TimePoint now) const {
  PaceAnswer answer{now, ""};
  if (record_.holdUntil && *record_.holdUntil > now) {
    answer.at = *record_.holdUntil;
    answer.why = "the CA answered rateLimited (" + record_.holdReason + "): every lineage of this account waits until " +
                 formatTime(*record_.holdUntil);
  }
  if (limits_.orders.on()) {
    auto mine = waiters_.find(lineage);
    bool unknownAhead = false;
    TimePoint lastTurnAhead = answer.at;
    auto k = ahead(lineage, urgency, mine == waiters_.end() ? now : mine->second.since, now, unknownAhead,
                   lastTurnAhead);
    // Never before those ahead of it: one whose turn was set when more stood
    // before it still orders first, even if tokens free up sooner.
    auto slot = std::max(slotFor(record_.orders, limits_.orders, k, answer.at, now), lastTurnAhead);
    if (unknownAhead && slot > now) slot = std::max(answer.at, std::min(slot, now + kPaceUnknownRecheck));
    if (slot > answer.at) {
      auto placed = inWindow(record_.orders, limits_.orders.window, now).size();
      answer.why = "account pace: " + plural(placed, "new order") + " in the last " +
                   formatDuration(limits_.orders.window) + " (at most " + std::to_string(limits_.orders.count) +
                   "), " + plural(k, "more urgent lineage") + " ahead" +
                   (unknownAhead ? ", some not heard of yet" : "");
      answer.at = slot;
    }
  }
  if (auto gate = namesGate(names, now); gate && gate->at > answer.at) answer = *gate;
  return answer;
}

bool PaceBook::wait(const std::string& lineage, const Urgency& urgency, TimePoint at, TimePoint now) {
  unknown_.erase(lineage);
  prune(now);
  auto [it, added] = waiters_.try_emplace(lineage, Waiter{urgency, now, at});
  bool news = added || it->second.at != at;
  it->second.urgency = urgency;
  it->second.at = at;
  record_.waiting[lineage] = at;
  return news;
}

bool PaceBook::idle(const std::string& lineage) {
  unknown_.erase(lineage);
  record_.waiting.erase(lineage);
  return waiters_.erase(lineage) > 0;
}

void PaceBook::forget(const std::string& lineage) { (void)idle(lineage); }

PaceAnswer PaceBook::take(const std::string& lineage, const Urgency& urgency, const std::vector<std::string>& names,
                          TimePoint now) {
  auto answer = ask(lineage, urgency, names, now);
  if (answer.at > now) return answer;
  prune(now);
  record_.orders.push_back(now);
  (void)idle(lineage);  // its turn came: it waits no more
  return answer;
}

void PaceBook::untake() {
  if (!record_.orders.empty()) record_.orders.pop_back();
}

bool PaceBook::hold(TimePoint until, const std::string& reason, TimePoint now) {
  until = std::min(until, now + kRateLimitedMaxHold);
  if (record_.holdUntil && *record_.holdUntil >= until) return false;
  record_.holdUntil = until;
  record_.holdReason = reason;
  return true;
}

void PaceBook::validationFailed(const std::string& hostname, TimePoint now) {
  prune(now);
  record_.failedValidations[hostname].push_back(now);
}

// Forgets what no longer counts: orders and failures out of their window, a hold
// that ended, waiters gone stale.
void PaceBook::prune(TimePoint now) {
  if (limits_.orders.on()) record_.orders = inWindow(record_.orders, limits_.orders.window, now);
  else record_.orders.clear();
  for (auto it = record_.failedValidations.begin(); it != record_.failedValidations.end();) {
    it->second = limits_.failedValidations.on() ? inWindow(it->second, limits_.failedValidations.window, now)
                                                : std::vector<TimePoint>{};
    it = it->second.empty() ? record_.failedValidations.erase(it) : std::next(it);
  }
  if (record_.holdUntil && *record_.holdUntil <= now) {
    record_.holdUntil.reset();
    record_.holdReason.clear();
  }
  for (auto it = waiters_.begin(); it != waiters_.end();) {
    bool stale = it->second.at + kPaceStaleAfter < now;
    if (stale) record_.waiting.erase(it->first);
    it = stale ? waiters_.erase(it) : std::next(it);
  }
}

PaceLimits AccountPace::limits() const {
  std::lock_guard lock(mutex_);
  return book_.limits();
}

void AccountPace::enrol(const std::string& lineage, TimePoint now) {
  std::lock_guard lock(mutex_);
  book_.enrol(lineage, now);
}

PaceAnswer AccountPace::ask(const std::string& lineage, const Urgency& urgency, const std::vector<std::string>& names,
                            TimePoint now) const {
  std::lock_guard lock(mutex_);
  return book_.ask(lineage, urgency, names, now);
}

Status AccountPace::wait(const std::string& lineage, const Urgency& urgency, TimePoint at, TimePoint now) {
  std::lock_guard lock(mutex_);
  if (!book_.wait(lineage, urgency, at, now)) return {};
  return save_(book_.record());
}

Status AccountPace::idle(const std::string& lineage) {
  std::lock_guard lock(mutex_);
  if (!book_.idle(lineage)) return {};
  return save_(book_.record());
}

void AccountPace::forget(const std::string& lineage) {
  std::lock_guard lock(mutex_);
  book_.forget(lineage);
}

Status AccountPace::take(const std::string& lineage, const Urgency& urgency, const std::vector<std::string>& names,
                         TimePoint now) {
  std::lock_guard lock(mutex_);
  auto answer = book_.take(lineage, urgency, names, now);
  if (answer.at > now)
    return failAs(ErrorKind::Deferred, answer.why + "; this lineage's turn comes at " + formatTime(answer.at));
  if (auto ok = save_(book_.record()); !ok) {
    book_.untake();  // not counted, so not placed
    return wrap("count the order at " + ca_ + " before placing it (none was placed)", ok.error());
  }
  return {};
}

Result<bool> AccountPace::hold(TimePoint until, const std::string& reason, TimePoint now) {
  std::lock_guard lock(mutex_);
  if (!book_.hold(until, reason, now)) return false;
  if (auto ok = save_(book_.record()); !ok) return std::unexpected(ok.error());
  return true;
}

Status AccountPace::validationFailed(const std::vector<std::string>& hostnames, TimePoint now) {
  std::lock_guard lock(mutex_);
  for (const auto& h : hostnames) book_.validationFailed(h, now);
  return save_(book_.record());
}

}  // namespace sc::renew
