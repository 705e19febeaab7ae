#pragma once
// One AccountPace per ACME account (a directory URL: store::AccountStore keeps one
// account per CA), shared by every lineage ordering there, and the limits each
// paces to: the settings', or the CA's known ones.
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "config/settings.h"
#include "renew/account_pace.h"
#include "store/fs.h"

namespace sc::app {

inline constexpr const char* kLetsEncrypt = "https://acme-v02.api.letsencrypt.org/directory";
inline constexpr const char* kLetsEncryptStaging = "https://acme-staging-v02.api.letsencrypt.org/directory";

// The limits in force at the CA at `directoryUrl`: a setting given wins (0/0 is
// "off"); unset, Let's Encrypt's documented ones (production: 300 new orders per
// account per 3 hours, 5 failed validations per hostname per hour; staging: 1500
// per 3 hours, 200 per hour), and none for any other CA.
renew::PaceLimits paceLimitsFor(const Settings& settings, const std::string& directoryUrl);
// One line for check-config: the limits at each CA.
std::string describePaceLimits(const Settings& settings);

class AccountPaces {
 public:
  AccountPaces(store::FileSystem& fs, const Settings& settings) : fs_(fs), settings_(settings) {}
  // Made on first use, from its file in the state folder (a damaged one is said
  // in the log and read conservatively).
  renew::AccountPace& forCa(const std::string& directoryUrl, TimePoint now);

 private:
  store::FileSystem& fs_;
  const Settings& settings_;
  std::mutex mutex_;
  std::map<std::string, std::unique_ptr<renew::AccountPace>> paces_;
};

}  // namespace sc::app
