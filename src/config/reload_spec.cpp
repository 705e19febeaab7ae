#include "config/reload_spec.h"

#include <sstream>

#include <yaml-cpp/yaml.h>

namespace sc {

Result<ReloadSpec> reloadCommand(std::vector<std::string> argv) {
  if (argv.empty() || argv[0].empty()) return fail("the reload command is empty");
  if (argv[0].front() != '/')
    return fail("the reload command '" + argv[0] + "' must be an absolute path (no shell, no PATH search)");
  ReloadSpec spec;
  spec.kind = ReloadSpec::Kind::Command;
  spec.argv = std::move(argv);
  return spec;
}

Result<ReloadSpec> parseReloadSpec(const std::string& text) {
  if (text == "none" || text.empty()) return ReloadSpec{};
  const std::string prefix = "command:";
  if (text.rfind(prefix, 0) != 0)
    return fail("'" + text + "' is not a reload action (expected none or command:ARGV)");
  std::string rest = text.substr(prefix.size());
  std::vector<std::string> argv;
  if (!rest.empty() && rest.front() == '[') {
    // A JSON array is a YAML flow sequence: one reader for both.
    try {
      YAML::Node seq = YAML::Load(rest);
      if (!seq.IsSequence()) return fail("'" + rest + "' is not a list of strings");
      for (const auto& item : seq) argv.push_back(item.as<std::string>());
    } catch (const YAML::Exception& e) {
      return fail("'" + rest + "' is not a list of strings: " + e.msg);
    }
  } else {
    std::istringstream words(rest);
    for (std::string w; words >> w;) argv.push_back(w);
  }
  return reloadCommand(std::move(argv));
}

}  // namespace sc
