#pragma once
#include "app/cli.h"

namespace sc::app {

// Exit statuses, as the contract fixes them.
inline constexpr int kExitOk = 0;
inline constexpr int kExitNoCertificate = 1;
inline constexpr int kExitUsage = 2;

int runCommand(const CommandLine& cl);

}  // namespace sc::app
