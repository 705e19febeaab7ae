#include "config/settings.h"

namespace sc {

std::string ReloadSpec::describe() const {
  if (kind == Kind::None) return "none";
  std::string out = "command:";
  for (std::size_t i = 0; i < argv.size(); ++i) out += (i ? " " : "") + argv[i];
  return out;
}

std::string describeListen(const Settings& s) {
  if (s.http01Host.empty()) return ":" + std::to_string(s.http01Port);
  if (s.http01Host.find(':') != std::string::npos)
    return "[" + s.http01Host + "]:" + std::to_string(s.http01Port);
  return s.http01Host + ":" + std::to_string(s.http01Port);
}

}  // namespace sc
