#pragma once
#include <optional>
#include <string>

#include "core/result.h"
#include "store/cert_files.h"

namespace sc::reload {

// What changed, as a reload command is told it (reload/command_reloader.h).
struct ReloadEvent {
  std::string name;     // the lineage
  std::string liveDir;  // <volume>/live/<name>
  std::string source;   // user, acme or self-signed
  // The live set as sidecert read and judged it, for an action that hands the
  // files on (swarm:): nothing is read again by path from the volume, where a
  // link swapped in meanwhile could lead elsewhere.
  std::optional<store::CertFiles> files;
};

// Tells the gateway that the live set changed. A failure is reported, never
// undone: the new certificate stays, and the supervisor tries the reload again.
class Reloader {
 public:
  virtual ~Reloader() = default;
  virtual Status reload(const ReloadEvent& event) = 0;
  virtual std::string describe() const = 0;
  // The gateway is told of a self-signed stand-in at once, before a CA is asked
  // in the same pass, when the CA's challenge check passes through a gateway that
  // cannot start without a certificate; otherwise it is told once, of the last.
  virtual bool tellsStandInFirst() const { return false; }
};

// Logs what a reload program printed, line by line as `reload_output`, at most
// the first 4 KiB: a chatty program must not flood the log.
void logReloadOutput(const std::string& program, const std::string& output);

class NoReload final : public Reloader {
 public:
  Status reload(const ReloadEvent&) override { return {}; }
  std::string describe() const override { return "none"; }
};

}  // namespace sc::reload
