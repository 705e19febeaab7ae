#include "store/gateway_views.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <regex>

#include "store/cert_files.h"

namespace sc::store {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

bool isIpv4(const std::string& s) {
  static const std::regex kIpv4("[0-9]{1,3}(\\.[0-9]{1,3}){3}");
  return std::regex_match(s, kIpv4);
}

// The three files nginx-proxy reads for a host, and the set file each links to.
constexpr std::array<std::pair<const char*, const char*>, 3> kHostFiles = {
    {{".crt", "fullchain.pem"}, {".key", "privkey.pem"}, {".chain.pem", "chain.pem"}}};

std::string linkInto(const std::string& lineage, const char* file) { return "live/" + lineage + "/" + file; }

}  // namespace

bool isViewableLineage(const std::string& name) {
  static const std::regex kName("[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}");
  return std::regex_match(name, kName);
}

bool isViewableHost(const std::string& name) {
  // RFC 1123 labels, optionally behind "*."; at most 253 characters.
  static const std::regex kHost("(\\*\\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
  const std::string n = lower(name);
  return n.size() <= 253 && !isIpv4(n) && std::regex_match(n, kHost);
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
