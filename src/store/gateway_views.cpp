#include "store/gateway_views.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <regex>
#include <string_view>

#include "store/cert_files.h"

namespace sc::store {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isLowerAlnum(char c) { return isDigit(c) || (c >= 'a' && c <= 'z'); }
bool isAsciiAlnum(char c) { return isLowerAlnum(c) || (c >= 'A' && c <= 'Z'); }

// Hand-written rather than std::regex: every round of the views checks every name
// of every lineage, and std::regex made that most of a round with 1,000 lineages.
// tests/unit/views_names_test.cpp holds them to the regular expressions they replace.

// Four dot-separated groups of one to three digits.
bool isIpv4(std::string_view s) {
  int groups = 0;
  std::size_t i = 0;
  while (true) {
    std::size_t digits = 0;
    while (i < s.size() && isDigit(s[i])) ++i, ++digits;
    if (digits < 1 || digits > 3) return false;
    if (++groups == 4) return i == s.size();
    if (i >= s.size() || s[i] != '.') return false;
    ++i;
  }
}

// One RFC 1123 label: 1 to 63 of [a-z0-9-], not starting or ending with '-'.
bool isHostLabel(std::string_view label) {
  if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
  for (char c : label)
    if (!isLowerAlnum(c) && c != '-') return false;
  return true;
}

// The three files nginx-proxy reads for a host, and the set file each links to.
constexpr std::array<std::pair<const char*, const char*>, 3> kHostFiles = {
    {{".crt", "fullchain.pem"}, {".key", "privkey.pem"}, {".chain.pem", "chain.pem"}}};

std::string linkInto(const std::string& lineage, const char* file) { return "live/" + lineage + "/" + file; }

}  // namespace

bool isViewableLineage(const std::string& name) {
  // [A-Za-z0-9_-][A-Za-z0-9._-]{0,63}: never "." or "..", never a path.
  if (name.empty() || name.size() > 64 || name.front() == '.') return false;
  for (char c : name)
    if (!isAsciiAlnum(c) && c != '_' && c != '-' && c != '.') return false;
  return true;
}

bool isViewableHost(const std::string& name) {
  // RFC 1123 labels, optionally behind "*."; at most 253 characters.
  const std::string n = lower(name);
  if (n.size() > 253 || isIpv4(n)) return false;
  std::string_view rest(n);
  if (rest.starts_with("*.")) rest.remove_prefix(2);
  while (true) {
    const std::size_t dot = rest.find('.');
    if (!isHostLabel(rest.substr(0, dot))) return false;
    if (dot == std::string_view::npos) return true;
    rest.remove_prefix(dot + 1);
  }
}

std::string defaultLineage(const std::vector<LineageEntry>& lineages) {
  auto viewable = [](const LineageEntry& l) { return l.published && isViewableLineage(l.name); };
  for (const auto& l : lineages)
    if (viewable(l) && l.name == "default") return l.name;
  for (const auto& l : lineages)
    if (viewable(l)) return l.name;
  return "";
}

std::map<std::string, std::string> sniOwners(const std::vector<LineageEntry>& lineages) {
  std::map<std::string, std::string> owners;
  for (const auto& l : lineages) {
    if (!l.published || !isViewableLineage(l.name)) continue;
    for (const auto& n : l.names)
      if (isViewableHost(n)) owners.emplace(lower(n), l.name);  // emplace keeps the first claim
  }
  return owners;
}

std::string nginxSniMap(const std::vector<LineageEntry>& lineages) {
  std::string out = std::string(kKeptHeader) + "\n# nginx: map $ssl_server_name $sidecert_set { include <this file>; }\n";
  out += "hostnames;\n";  // before the entries: *.example.org is a mask only after it
  if (auto d = defaultLineage(lineages); !d.empty()) out += "default " + d + ";\n";
  for (const auto& [name, lineage] : sniOwners(lineages)) out += name + " " + lineage + ";\n";
  return out;
}

std::string haproxyCrtList(const std::vector<LineageEntry>& lineages) {
  std::map<std::string, std::vector<std::string>> namesOf;
  for (const auto& [name, lineage] : sniOwners(lineages)) namesOf[lineage].push_back(name);
  std::string out = std::string(kKeptHeader) + "\n# HAProxy: crt-base <volume>, then bind ... ssl crt-list <this file>\n";
  auto line = [&](const std::string& lineage) {
    out += linkInto(lineage, kCombinedFile);
    for (const auto& n : namesOf[lineage]) out += " " + n;
    out += "\n";
  };
  const std::string d = defaultLineage(lineages);
  if (!d.empty()) line(d);  // the first certificate of a bind line is the one unknown names get
  for (const auto& l : lineages)
    if (l.name != d && namesOf.count(l.name)) line(l.name);  // a lineage with no name of its own serves none
  return out;
}

std::map<std::string, std::string> nginxProxyLinks(const std::vector<LineageEntry>& lineages) {
  // nginx-proxy's template looks for <host>.crt, then <parent>.crt (the host less
  // its first label): a wildcard *.example.org is found as example.org.crt, unless
  // a lineage has example.org itself.
  std::map<std::string, std::string> hostOwner;
  const auto owners = sniOwners(lineages);
  for (const auto& [name, lineage] : owners)
    if (name.rfind("*.", 0) != 0) hostOwner.emplace(name, lineage);
  for (const auto& [name, lineage] : owners)
    if (name.rfind("*.", 0) == 0) hostOwner.emplace(name.substr(2), lineage);
  hostOwner.erase("default");  // the name of the default set's files

  std::map<std::string, std::string> links;
  for (const auto& [host, lineage] : hostOwner)
    for (const auto& [suffix, file] : kHostFiles) links[host + suffix] = linkInto(lineage, file);
  if (auto d = defaultLineage(lineages); !d.empty()) {
    links["default.crt"] = linkInto(d, "fullchain.pem");
    links["default.key"] = linkInto(d, "privkey.pem");
  }
  return links;
}

bool isViewLinkTarget(const std::string& target) {
  static const std::regex kTarget("live/([^/]+)/(fullchain|privkey|chain)\\.pem");
  std::smatch m;
  return std::regex_match(target, m, kTarget) && isViewableLineage(m[1].str());
}

bool isAcmeCompanionLinkTarget(const std::string& target) {
  static const std::regex kTarget("\\./([^/]+)/(fullchain|key|chain)\\.pem");
  std::smatch m;
  return std::regex_match(target, m, kTarget) && m[1].str() != "..";
}

bool isViewFileName(const std::string& file) {
  for (const auto& [suffix, _] : kHostFiles) {
    const std::string s = suffix;
    if (file.size() > s.size() && file.compare(file.size() - s.size(), s.size(), s) == 0)
    {
      const std::string host = file.substr(0, file.size() - s.size());
      return host.find('*') == std::string::npos && isViewableHost(host);
    }
  }
  return false;
}

}  // namespace sc::store
