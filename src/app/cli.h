#pragma once
#include <optional>
#include <string>

#include "core/result.h"

namespace sc::app {

struct CommandLine {
  std::string command;  // run, once, status, check-config, revoke, test-alert, dns-record, version, help
  std::optional<std::string> configFile;
  bool json = false;
  std::optional<std::string> reason;  // revoke
  std::optional<std::string> name;    // revoke, status, dns-record: one lineage of several
};

// Unknown commands and flags are errors (exit 2), with the word that was wrong.
Result<CommandLine> parseCommandLine(int argc, char** argv);
const char* usage();

}  // namespace sc::app
