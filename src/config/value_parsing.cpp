#include "config/value_parsing.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

#include <Poco/Exception.h>
#include <Poco/URI.h>

#include "core/domain.h"
#include "core/duration.h"

namespace sc::config {

namespace {

// A URL of at most 2 KiB with a host and nothing a URL may not hold (spaces,
// control characters, a fragment), parsed; none when it is not one.
std::optional<Poco::URI> parsedUrl(const std::string& url) {
  if (url.size() > 2048) return std::nullopt;
  if (std::any_of(url.begin(), url.end(), [](unsigned char c) { return c <= ' ' || c >= 0x7f; })) return std::nullopt;
  try {
    Poco::URI uri(url);
    if (uri.getHost().empty() || !uri.getFragment().empty()) return std::nullopt;
    return uri;
  } catch (const Poco::Exception&) {
    return std::nullopt;
  }
}

}  // namespace

const std::string& scalar(const RawValue& v) { return v.items.front(); }

Status needScalar(const RawValue& v) {
  if (v.isList || v.items.size() != 1) return fail("expects a single value, not a list");
  return {};
}

std::vector<std::string> splitCommas(const RawValue& v) {
  std::vector<std::string> out;
  for (const auto& item : v.items) {
    std::stringstream ss(item);
    for (std::string part; std::getline(ss, part, ',');) {
      part.erase(0, part.find_first_not_of(" \t"));
      part.erase(part.find_last_not_of(" \t") + 1);
      if (!part.empty()) out.push_back(part);
    }
  }
  return out;
}

// LOCAL@DOMAIN: a plain local part (no quoting, no spaces, no control characters)
// and a domain name; what a CA accepts as a contact (RFC 8555 7.3: mailto).
bool isEmailAddress(const std::string& e) {
  auto at = e.rfind('@');
  auto plain = [](unsigned char c) { return std::isalnum(c) || std::strchr("!#$%&'*+-/=?^_`{|}~.", c); };
  return e.size() <= 254 && at != std::string::npos && at > 0 && at <= 64 &&
         std::all_of(e.begin(), e.begin() + static_cast<long>(at), plain) && validateDomain(e.substr(at + 1));
}

// https://HOST[:PORT][/PATH], without user info.
bool isHttpsUrl(const std::string& url) {
  auto uri = parsedUrl(url);
  return uri && url.rfind("https://", 0) == 0 && uri->getUserInfo().empty();
}

// One of `schemes`; without a path or query unless `pathAllowed`.
bool isUrl(const std::string& url, std::initializer_list<const char*> schemes, bool pathAllowed) {
  auto uri = parsedUrl(url);
  if (!uri) return false;
  bool scheme = std::any_of(schemes.begin(), schemes.end(), [&](const char* s) { return uri->getScheme() == s; });
  bool path = pathAllowed || ((uri->getPath().empty() || uri->getPath() == "/") && uri->getRawQuery().empty());
  return scheme && path;
}

// A file sidecert must be able to read, such as a CA bundle.
Result<std::string> readablePath(const RawValue& v) {
  if (auto ok = needScalar(v); !ok) return std::unexpected(ok.error());
  if (access(scalar(v).c_str(), R_OK) != 0) return fail("cannot read '" + scalar(v) + "': " + std::strerror(errno));
  return scalar(v);
}

std::optional<std::pair<int, std::chrono::seconds>> parseCountPer(const std::string& text) {
  auto slash = text.find('/');
  std::string count = text.substr(0, slash);
  bool digits = !count.empty() && count.size() <= 6 && std::all_of(count.begin(), count.end(), ::isdigit);
  auto window = slash == std::string::npos ? Result<std::chrono::seconds>(fail("")) : parseDuration(text.substr(slash + 1));
  if (!digits || !window || std::stoi(count) < 1 || window->count() < 1) return std::nullopt;
  return std::pair{std::stoi(count), *window};
}

Result<std::chrono::seconds> durationOf(const RawValue& v, bool allowZero) {
  if (auto ok = needScalar(v); !ok) return std::unexpected(ok.error());
  auto d = parseDuration(scalar(v));
  if (d && !allowZero && d->count() == 0) return fail("must be longer than 0s");
  return d;
}

// What a secret's file holds, without the newline an editor or `echo` ends it with.
Result<std::string> readSecretFile(const std::string& path) {
  if (path.empty() || path.front() != '/') return fail("'" + path + "' is not an absolute path");
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail("cannot read '" + path + "': " + std::strerror(errno));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.size() > 4096) return fail("'" + path + "' is larger than 4 KiB: not a secret");
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (text.empty()) return fail("'" + path + "' is empty");
  return text;
}

}  // namespace sc::config
