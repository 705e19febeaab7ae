#include "config/settings.h"

#include <algorithm>
#include <csignal>

#include "core/domain.h"

namespace sc {

std::string ReloadSpec::describe() const {
  switch (kind) {
    case Kind::None: return "none";
    case Kind::Signal: return "signal:" + target + ":" + signalName(signal);
    case Kind::DockerRestart: return "docker-restart:" + target;
    case Kind::DockerService: return "docker-service:" + target;
    case Kind::Swarm: return "swarm:" + target + ":" + dir;
    case Kind::DockerExec: break;
    case Kind::Command: break;
  }
  std::string out = kind == Kind::DockerExec ? "docker-exec:" + target + ":" : "command:";
  for (std::size_t i = 0; i < argv.size(); ++i) out += (i ? " " : "") + argv[i];
  return out;
}

namespace {
const std::pair<const char*, int> kSignals[] = {{"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT},
                                                {"TERM", SIGTERM}, {"USR1", SIGUSR1}, {"USR2", SIGUSR2},
                                                {"WINCH", SIGWINCH}};
}

std::string signalName(int sig) {
  for (const auto& [name, number] : kSignals)
    if (number == sig) return std::string("SIG") + name;
  return std::to_string(sig);
}

std::optional<int> signalNumber(std::string name) {
  if (name.rfind("SIG", 0) == 0) name = name.substr(3);
  for (const auto& [n, number] : kSignals)
    if (name == n) return number;
  return std::nullopt;
}

std::string Listen::describe() const {
  if (host.empty()) return ":" + std::to_string(port);
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

std::string describeListen(const Settings& s) { return Listen{s.http01Host, s.http01Port}.describe(); }

bool usesChallenge(const Settings& s, ChallengeType type) {
  return std::any_of(s.certificates.begin(), s.certificates.end(),
                     [&](const CertificateSpec& c) { return c.challenge == type; });
}

bool usesDnsChallenge(const Settings& s) {
  return usesChallenge(s, ChallengeType::DnsPersist01) || usesChallenge(s, ChallengeType::Dns01);
}

std::vector<std::string> settingsWarnings(const Settings& s) {
  std::vector<std::string> out;
  bool letsEncrypt = std::any_of(s.acmeDirectories.begin(), s.acmeDirectories.end(), [](const std::string& d) {
    return d.find(".api.letsencrypt.org/") != std::string::npos;
  });
  for (const auto& c : s.certificates) {
    auto ip = std::find_if(c.domains.begin(), c.domains.end(), isIpAddress);
    if (letsEncrypt && ip != c.domains.end() && c.acmeProfile != "shortlived")
      out.push_back("lineage " + c.name + " names the IP address " + *ip +
                    ", which Let's Encrypt issues for only under its 'shortlived' profile (6 days): set "
                    "SIDECERT_ACME_PROFILE=shortlived, or acme_profile: shortlived for this certificate");
  }
  return out;
}

}  // namespace sc
