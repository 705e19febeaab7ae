#include "dns/persist_record.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>

#include "core/time_format.h"

namespace sc::dns {
namespace {

// A TXT value is at most a few strings of 255 bytes; anything longer is no record of ours.
constexpr std::size_t kMaxText = 2048;
constexpr std::size_t kMaxParameters = 16;

std::string trimWsp(const std::string& s) {
  auto first = s.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// RFC 8659 4.2's value: printable ASCII without ';' and space.
bool isValueText(const std::string& v) {
  return std::all_of(v.begin(), v.end(), [](unsigned char c) { return c >= 0x21 && c <= 0x7e && c != ';'; });
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= s.size(); ++i)
    if (i == s.size() || s[i] == sep) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  return out;
}

}  // namespace

std::string persistRecordName(const std::string& domain) {
  std::string base = domain.rfind("*.", 0) == 0 ? domain.substr(2) : domain;
  return "_validation-persist." + base;
}

std::string persistRecordText(const PersistRecord& r, PersistDraft) {
  std::string text = r.issuer + "; accounturi=" + r.accountUri;
  if (r.wildcard) text += "; policy=wildcard";
  if (r.persistUntil) text += "; persistUntil=" + std::to_string(toUnixSeconds(*r.persistUntil));
  return text;
}

Result<PersistRecord> parsePersistRecord(const std::string& text) {
  if (text.size() > kMaxText) return fail("a TXT value of " + std::to_string(text.size()) + " bytes");
  auto parts = split(text, ';');
  PersistRecord r;
  r.issuer = lower(trimWsp(parts.front()));
  if (r.issuer.empty()) return fail("no issuer domain name before the first ';'");
  if (parts.size() - 1 > kMaxParameters) return fail("more than 16 parameters");
  std::set<std::string> seen;
  for (std::size_t i = 1; i < parts.size(); ++i) {
    std::string param = trimWsp(parts[i]);
    if (param.empty()) return fail("an empty parameter (two ';' or one at the end)");
    auto eq = param.find('=');
    if (eq == std::string::npos) return fail("'" + param + "' is not tag=value");
    std::string tag = lower(trimWsp(param.substr(0, eq)));
    std::string value = trimWsp(param.substr(eq + 1));
    if (tag.empty()) return fail("'" + param + "' has an empty tag");
    if (!seen.insert(tag).second) return fail("the tag '" + tag + "' is given twice");
    if (!isValueText(value)) return fail("the value of '" + tag + "' has spaces or characters outside printable ASCII");
    if (tag == "accounturi") {
      if (value.empty()) return fail("accounturi is empty");
      r.accountUri = value;
    } else if (tag == "policy") {
      r.wildcard = lower(value) == "wildcard";  // any other policy counts as none (the draft)
    } else if (tag == "persistuntil") {
      long long seconds = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
      if (ec != std::errc() || end != value.data() + value.size() || value.empty())
        return fail("persistUntil '" + value + "' is not a number of seconds");
      r.persistUntil = fromUnixSeconds(seconds);
    }
  }
  if (r.accountUri.empty()) return fail("no accounturi");
  return r;
}

std::string persistRecordProblem(const std::vector<std::string>& found, const std::vector<std::string>& issuers,
                                 const std::string& accountUri, bool wildcard, TimePoint now) {
  if (found.empty()) return "no TXT record";
  std::string why;
  for (const auto& text : found) {
    auto r = parsePersistRecord(text);
    std::string issuer = r ? r->issuer : lower(trimWsp(split(text.substr(0, kMaxText), ';').front()));
    if (std::find(issuers.begin(), issuers.end(), issuer) == issuers.end()) {
      if (why.empty()) why = "no record names this CA (" + (issuers.empty() ? std::string("?") : issuers.front()) + ")";
      continue;
    }
    if (!r)
      why = "the record for " + issuer + " is malformed: " + r.error().message;
    else if (r->accountUri != accountUri)
      why = "the record names another account: " + r->accountUri;
    else if (wildcard && !r->wildcard)
      why = "the record lacks policy=wildcard, which a wildcard name needs";
    else if (r->persistUntil && now > *r->persistUntil)
      why = "the record's persistUntil passed on " + formatTime(*r->persistUntil);
    else
      return "";
  }
  return why;
}

std::string RecordToCreate::zoneLine() const { return name + ". IN TXT \"" + text() + "\""; }

std::vector<RecordToCreate> persistRecordsFor(const std::vector<std::string>& names, const std::string& issuer,
                                              const std::string& accountUri, std::optional<TimePoint> persistUntil) {
  std::vector<RecordToCreate> out;
  for (const auto& n : names) {
    bool wildcard = n.rfind("*.", 0) == 0;
    std::string domain = wildcard ? n.substr(2) : n;
    auto same = std::find_if(out.begin(), out.end(), [&](const RecordToCreate& r) { return r.domain == domain; });
    if (same != out.end()) {
      same->record.wildcard = same->record.wildcard || wildcard;
      continue;
    }
    out.push_back({domain, persistRecordName(domain), {issuer, accountUri, wildcard, persistUntil}});
  }
  return out;
}

}  // namespace sc::dns
