#pragma once
#include <vector>

#include "app/cli.h"
#include "config/settings.h"

namespace sc::app {

// Exit statuses, as the contract fixes them.
inline constexpr int kExitOk = 0;
inline constexpr int kExitNoCertificate = 1;
inline constexpr int kExitUsage = 2;

int runCommand(const CommandLine& cl);
// check-config: what the settings mean (check_config.cpp).
int checkConfig(const Settings& settings);

struct Runtime;
// dns-record: the dns-persist-01 records the chosen lineages need (dns_record.cpp).
int dnsRecord(Runtime& rt, const std::vector<CertificateSpec>& specs);
struct LineageRuntime;
// After a lineage's first pass: dns-persist-01's records logged and looked up (a CA
// that cannot be asked is logged and passed over), dns-01's leftovers removed.
void startDnsChallenge(LineageRuntime& l);

}  // namespace sc::app
