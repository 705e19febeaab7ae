#pragma once
// CA replies → typed values. Everything here is hostile input: every field is
// checked for its type, size and count before anything else sees it, and a reply
// of an unexpected shape is an ErrorKind::Protocol error that quotes the reply's
// first bytes. The one place that reads a CA's JSON.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "acme/types.h"
#include "core/clock.h"
#include "core/result.h"

namespace sc::acme::wire {

// Bounds on what a CA may send, and why.
inline constexpr std::size_t kMaxJsonReply = 256 * 1024;  // an order for 100 names is ~10 KiB
inline constexpr std::size_t kMaxUrl = 2048;              // what browsers and CAs use in practice
inline constexpr std::size_t kMaxChallenges = 16;         // RFC 8555 defines three kinds
inline constexpr std::size_t kMaxSubproblems = 100;       // one per identifier
inline constexpr std::size_t kMaxText = 4096;             // a problem's detail, a status
// RFC 8555 8.3: base64url, at least 128 bits of entropy (22 characters).
inline constexpr std::size_t kMinToken = 22;
inline constexpr std::size_t kMaxToken = 256;
// Alternate chains a CA may offer (Let's Encrypt offers one or two).
inline constexpr std::size_t kMaxAlternates = 4;
// The longest Retry-After believed: a week, Let's Encrypt's longest rate-limit window.
inline constexpr std::chrono::seconds kMaxRetryAfter{7 * 24 * 3600};

// The first bytes of a reply, printable, for an error message.
std::string excerpt(const std::string& body);

Result<Directory> directory(const std::string& body);
// `identifiers`: how many names were ordered; a CA may list no more authorizations.
Result<Order> order(const std::string& body, const std::string& url, std::size_t identifiers);
Result<Authorization> authorization(const std::string& body, const std::string& url);
std::optional<Problem> problem(const std::string& body);
// A problem document's "type" URN; Other for one not listed in ProblemType.
ProblemType problemType(const std::string& urn);
Result<RenewalInfo> renewalInfo(const std::string& body);
// Newly created account's URL comes in Location; the body is only checked to be JSON.
Status account(const std::string& body);

// Link: <url>;rel="alternate" headers, at most kMaxAlternates, https only.
std::vector<std::string> alternateLinks(const std::vector<std::string>& linkHeaders);
// Retry-After as delta-seconds or HTTP-date, relative to `now`, within [0, kMaxRetryAfter];
// 0 when absent or unreadable.
std::chrono::seconds retryAfter(const std::string& value, TimePoint now);
bool isBase64Url(const std::string& s);

}  // namespace sc::acme::wire
