#include "config/reload_spec.h"

#include <algorithm>
#include <cctype>
#include <csignal>
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

namespace {

// Container, service and process names as Docker and the kernel spell them.
bool isPlainName(const std::string& n) {
  return !n.empty() && n.size() <= 128 && std::isalnum(static_cast<unsigned char>(n.front())) &&
         std::all_of(n.begin(), n.end(),
                     [](unsigned char c) { return std::isalnum(c) || c == '_' || c == '.' || c == '-'; });
}

Result<ReloadSpec> parseSignal(const std::string& rest) {
  auto colon = rest.find(':');
  ReloadSpec spec;
  spec.kind = ReloadSpec::Kind::Signal;
  spec.target = rest.substr(0, colon);
  spec.signal = SIGHUP;
  if (!isPlainName(spec.target))
    return fail("'" + spec.target + "' is not a process name (expected signal:PROCESS[:SIGNAL], e.g. signal:nginx:HUP)");
  if (colon != std::string::npos) {
    auto sig = signalNumber(rest.substr(colon + 1));
    if (!sig)
      return fail("'" + rest.substr(colon + 1) + "' is not a signal (expected HUP, INT, QUIT, TERM, USR1, USR2 or WINCH)");
    spec.signal = *sig;
  }
  return spec;
}

Result<ReloadSpec> parseDocker(ReloadSpec::Kind kind, const std::string& what, const std::string& rest) {
  if (!isPlainName(rest)) return fail("'" + rest + "' is not a " + what + " name");
  ReloadSpec spec;
  spec.kind = kind;
  spec.target = rest;
  return spec;
}

Result<std::vector<std::string>> parseArgv(const std::string& rest) {
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
  return argv;
}

// docker-exec:CONTAINER:ARGV: the program runs in the gateway's container, found
// by its PATH there, so no absolute path is asked for.
Result<ReloadSpec> parseDockerExec(const std::string& rest) {
  auto colon = rest.find(':');
  if (colon == std::string::npos)
    return fail("'" + rest + "' names no program (expected docker-exec:CONTAINER:ARGV, e.g. "
                "docker-exec:gateway:caddy reload --force --config /etc/caddy/Caddyfile)");
  auto spec = parseDocker(ReloadSpec::Kind::DockerExec, "container", rest.substr(0, colon));
  if (!spec) return spec;
  auto argv = parseArgv(rest.substr(colon + 1));
  if (!argv) return std::unexpected(argv.error());
  if (argv->empty() || argv->front().empty()) return fail("docker-exec:" + rest + ": the program to run is empty");
  spec->argv = std::move(*argv);
  return spec;
}

// swarm:SERVICE[:DIR]: the set reaches SERVICE's tasks as swarm secrets and
// configs at DIR/live/<name>/ (default /var/lib/certs, where the gateways of
// deploy/ read the volume).
Result<ReloadSpec> parseSwarm(const std::string& rest) {
  auto colon = rest.find(':');
  auto spec = parseDocker(ReloadSpec::Kind::Swarm, "service", rest.substr(0, colon));
  if (!spec) return spec;
  spec->dir = colon == std::string::npos ? kSwarmCertsDir : rest.substr(colon + 1);
  while (spec->dir.size() > 1 && spec->dir.back() == '/') spec->dir.pop_back();
  if (spec->dir.empty() || spec->dir.front() != '/' || spec->dir.find("..") != std::string::npos ||
      spec->dir.find_first_of(" \t\n") != std::string::npos)
    return fail("'" + rest.substr(colon + 1) + "' is not an absolute folder in the gateway's container (swarm:SERVICE:DIR)");
  return spec;
}

}  // namespace

Result<ReloadSpec> parseReloadSpec(const std::string& text) {
  if (text == "none" || text.empty()) return ReloadSpec{};
  auto colon = text.find(':');
  std::string kind = text.substr(0, colon), rest = colon == std::string::npos ? "" : text.substr(colon + 1);
  if (kind == "signal") return parseSignal(rest);
  if (kind == "docker-restart") return parseDocker(ReloadSpec::Kind::DockerRestart, "container", rest);
  if (kind == "docker-service") return parseDocker(ReloadSpec::Kind::DockerService, "service", rest);
  if (kind == "docker-exec") return parseDockerExec(rest);
  if (kind == "swarm") return parseSwarm(rest);
  if (kind == "command") {
    auto argv = parseArgv(rest);
    if (!argv) return std::unexpected(argv.error());
    return reloadCommand(std::move(*argv));
  }
  return fail("'" + text +
              "' is not a reload action (expected none, signal:PROCESS[:SIGNAL], docker-restart:CONTAINER, "
              "docker-exec:CONTAINER:ARGV, docker-service:SERVICE, swarm:SERVICE[:DIR] or command:ARGV)");
}

}  // namespace sc
