#pragma once
// What the settings' parsers share: reading one value as given, and the checks
// several settings make (a URL, a duration, a secret's file).
#include <chrono>
#include <initializer_list>
#include <optional>
#include <utility>
#include <string>
#include <vector>

#include "config/setting_values.h"
#include "core/result.h"

namespace sc::config {

const std::string& scalar(const RawValue& v);
Status needScalar(const RawValue& v);
// The items of a list, and each item split at commas, trimmed, empty ones dropped.
std::vector<std::string> splitCommas(const RawValue& v);
// LOCAL@DOMAIN: what a CA accepts as a contact (RFC 8555 7.3: mailto).
bool isEmailAddress(const std::string& e);
// https://HOST[:PORT][/PATH], without user info.
bool isHttpsUrl(const std::string& url);
// One of `schemes`, with a host; without a path or query unless `pathAllowed`.
bool isUrl(const std::string& url, std::initializer_list<const char*> schemes, bool pathAllowed);
// A file sidecert must be able to read, such as a CA bundle.
Result<std::string> readablePath(const RawValue& v);
Result<std::chrono::seconds> durationOf(const RawValue& v, bool allowZero);
// COUNT/DURATION (5/7d, 300/3h): a count of 1 to 999999 and a window of at least 1s.
std::optional<std::pair<int, std::chrono::seconds>> parseCountPer(const std::string& text);
// What a secret's file holds, without the newline an editor or `echo` ends it with.
Result<std::string> readSecretFile(const std::string& path);

// The alert settings (alert_values.cpp) and the challenge settings (challenge_values.cpp).
const std::vector<Setting>& alertSettings();
const std::vector<Setting>& challengeSettings();
// Discovery, layout, webroot and the account-wide pace (discover_values.cpp).
const std::vector<Setting>& discoverSettings();

}  // namespace sc::config
