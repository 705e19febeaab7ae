#include "app/account_paces.h"

#include "core/duration.h"
#include "log/log.h"
#include "store/pace_file.h"

namespace sc::app {
namespace {

renew::PaceLimit limitOf(const std::optional<RateLimit>& set, renew::PaceLimit known) {
  if (!set) return known;
  return {set->count, set->window};
}

std::string describe(const renew::PaceLimit& l, const std::string& what) {
  return l.on() ? std::to_string(l.count) + " " + what + " per " + formatDuration(l.window) : "no limit on " + what;
}

}  // namespace

renew::PaceLimits paceLimitsFor(const Settings& s, const std::string& url) {
  using std::chrono::hours;
  renew::PaceLimit orders, failures;
  if (url == kLetsEncrypt) {
    orders = {300, hours(3)};
    failures = {5, hours(1)};
  } else if (url == kLetsEncryptStaging) {
    orders = {1500, hours(3)};
    failures = {200, hours(1)};
  }
  return {limitOf(s.accountOrderLimit, orders), limitOf(s.validationFailureLimit, failures)};
}

std::string describePaceLimits(const Settings& s) {
  if (s.acmeDirectories.empty()) return "none (ACME off)";
  std::string out;
  for (const auto& url : s.acmeDirectories) {
    auto l = paceLimitsFor(s, url);
    out += (out.empty() ? "" : "; ") + url + ": " + describe(l.orders, "new orders") + " per account, " +
           describe(l.failedValidations, "failed validations") + " per name";
  }
  return out + "; the most urgent order first; a rateLimited answer holds the whole account until its Retry-After";
}

renew::AccountPace& AccountPaces::forCa(const std::string& url, TimePoint now) {
  std::lock_guard lock(mutex_);
  auto& pace = paces_[url];
  if (pace) return *pace;
  auto limits = paceLimitsFor(settings_, url);
  auto file = std::make_shared<store::PaceFile>(fs_, settings_.stateDir, url);
  auto reading = file->load(limits, now);
  if (!reading.problem.empty())
    log::error("account_pace_unreadable", {{"ca", url}, {"file", file->file().string()}, {"problem", reading.problem}});
  pace = std::make_unique<renew::AccountPace>(url, limits, std::move(reading.record),
                                              [file](const renew::PaceRecord& r) { return file->save(r); });
  return *pace;
}

}  // namespace sc::app
