#pragma once
// What each gateway reads to serve every lineage by name with no edit of its own
// configuration (issue 32): pure functions of the list of lineages, written to the
// volume by store/views.h.
//
//   nginx/sni.map        `map $ssl_server_name $sidecert_set { include ...; }`:
//                        SNI name -> lineage name. nginx 1.22 fails the handshake
//                        when a variable `ssl_certificate` names a missing file
//                        (measured), and the client's SNI text in a path reaches
//                        `..`; through the map the path only ever holds one of
//                        our lineage names, and an unknown name gets the default.
//   haproxy/crt-list     each lineage's combined.pem with its SNI names, the
//                        default set first (HAProxy's default certificate).
//   <host>.crt .key .chain.pem, default.crt .key   (SIDECERT_LAYOUT=nginx-proxy)
//                        the names nginx-proxy's nginx.tmpl reads in
//                        /etc/nginx/certs/, which acme-companion's stacks mount
//                        the shared volume at: relative links into live/<name>/.
#include <map>
#include <string>
#include <vector>

namespace sc::store {

// One lineage as the views see it.
struct LineageEntry {
  std::string name;                // live/<name>/
  std::vector<std::string> names;  // what its certificate is for; first is the subject
  bool published = false;          // live/<name> holds a set
};

// The gateway files, relative to the volume.
inline constexpr const char* kNginxMapFile = "nginx/sni.map";
inline constexpr const char* kHaproxyListFile = "haproxy/crt-list";
// The first line of a file sidecert keeps: a file without it is someone else's.
inline constexpr const char* kKeptHeader = "# Kept by sidecert: rewritten whenever a lineage changes. Do not edit.";

// A lineage name that is safe in a path and in a gateway's configuration.
bool isViewableLineage(const std::string& name);
// A DNS name (or *.wildcard) made of the characters a gateway's file can carry
// unquoted; IP addresses in SNI are not a thing (RFC 6066 3), so they get none.
bool isViewableHost(const std::string& name);

// The lineage unknown names get: `default` when there is one, else the first; only
// published ones count. "" when none is published.
std::string defaultLineage(const std::vector<LineageEntry>& lineages);

// Each SNI name once, to the first published lineage that has it (a name claimed
// twice would make nginx refuse the whole map). Lower case.
std::map<std::string, std::string> sniOwners(const std::vector<LineageEntry>& lineages);

std::string nginxSniMap(const std::vector<LineageEntry>& lineages);
std::string haproxyCrtList(const std::vector<LineageEntry>& lineages);

// nginx-proxy's files: file name at the volume's root -> link target.
std::map<std::string, std::string> nginxProxyLinks(const std::vector<LineageEntry>& lineages);
// A link target of the shape nginxProxyLinks makes (live/<name>/<set file>).
bool isViewLinkTarget(const std::string& target);
// A link acme-companion made for a host (./<folder>/fullchain.pem, key.pem or
// chain.pem, in its letsencrypt_service.sh): sidecert takes its place when it has
// the host, so a stack moves over without emptying the volume first.
bool isAcmeCompanionLinkTarget(const std::string& target);
// A file name of the shape nginx-proxy reads (<host>.crt, .key, .chain.pem).
bool isViewFileName(const std::string& file);

}  // namespace sc::store
