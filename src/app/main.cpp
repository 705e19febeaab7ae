#include <iostream>

#include "app/cli.h"
#include "app/commands.h"

int main(int argc, char** argv) {
  auto cl = sc::app::parseCommandLine(argc, argv);
  if (!cl) {
    std::cerr << "sidecert: " << cl.error().message << "\n" << sc::app::usage();
    return sc::app::kExitUsage;
  }
  return sc::app::runCommand(*cl);
}
