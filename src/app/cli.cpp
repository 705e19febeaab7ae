#include "app/cli.h"

#include <set>

namespace sc::app {

const char* usage() {
  return "usage: sidecert COMMAND [--config FILE]\n"
         "\n"
         "  run                 keep a valid certificate in the volume (the image's default)\n"
         "  once                one full pass, then exit: 0 when a valid set is in place, 1 when not\n"
         "  status [--json] [--name NAME]\n"
         "                      what is in the volume: 0 healthy, 1 no valid certificate (in any)\n"
         "  check-config        validate the settings and say what would be done: 0 valid, 2 invalid\n"
         "  revoke [--reason N] [--name NAME]\n"
         "                      revoke the current ACME certificate (of NAME, where there are several)\n"
         "  dns-record [--name NAME]\n"
         "                      print the dns-persist-01 TXT record(s) to create, making the ACME\n"
         "                      account first if there is none: 0 printed, 1 the CA could not be asked\n"
         "  test-alert          send one test alert through every configured channel: 0 all delivered,\n"
         "                      1 one failed (named)\n"
         "  version             version and library versions\n"
         "\n"
         "Settings come from --config FILE (YAML) and SIDECERT_* environment variables; see README.md.\n";
}

Result<CommandLine> parseCommandLine(int argc, char** argv) {
  static const std::set<std::string> commands = {"run",    "once",    "status", "check-config",
                                                    "revoke", "version", "help",   "test-alert", "dns-record"};
  CommandLine cl;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](const std::string& flag) -> Result<std::string> {
      auto eq = arg.find('=');
      if (eq != std::string::npos) return arg.substr(eq + 1);
      if (i + 1 >= argc) return fail(flag + " needs a value");
      return std::string(argv[++i]);
    };
    if (arg == "--help" || arg == "-h") {
      cl.command = "help";
    } else if (arg == "--config" || arg.rfind("--config=", 0) == 0) {
      auto v = value("--config");
      if (!v) return std::unexpected(v.error());
      cl.configFile = *v;
    } else if (arg == "--json") {
      cl.json = true;
    } else if (arg == "--reason" || arg.rfind("--reason=", 0) == 0) {
      auto v = value("--reason");
      if (!v) return std::unexpected(v.error());
      cl.reason = *v;
    } else if (arg == "--name" || arg.rfind("--name=", 0) == 0) {
      auto v = value("--name");
      if (!v) return std::unexpected(v.error());
      cl.name = *v;
    } else if (arg.rfind("-", 0) == 0) {
      return fail("unknown flag '" + arg + "'");
    } else if (cl.command.empty()) {
      if (!commands.count(arg)) return fail("unknown command '" + arg + "'");
      cl.command = arg;
    } else {
      return fail("unexpected argument '" + arg + "'");
    }
  }
  if (cl.command.empty()) return fail("no command given");
  if (cl.json && cl.command != "status") return fail("--json goes with status only");
  if (cl.reason && cl.command != "revoke") return fail("--reason goes with revoke only");
  if (cl.name && cl.command != "revoke" && cl.command != "status" && cl.command != "dns-record")
    return fail("--name goes with revoke, status and dns-record only");
  return cl;
}

}  // namespace sc::app
