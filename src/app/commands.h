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

struct Runtime;
// dns-record: the dns-persist-01 records the chosen lineages need (dns_record.cpp).
int dnsRecord(Runtime& rt, const std::vector<CertificateSpec>& specs);
// run: the same records, logged at start; a CA that cannot be asked is logged and passed over.
void logDnsRecords(Runtime& rt);
// Removes the dns-01 records an earlier run left (sidecert run, at start).
void tidyDnsRecords(Runtime& rt);

}  // namespace sc::app
