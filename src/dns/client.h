#pragma once
// What the DNS challenges ask of DNS: lookups through the resolvers, the zone a
// name is in and its own servers, and RFC 2136 updates. Each question is bounded
// in time and ends at once on a stop; behind interfaces so tests can drive them.
#include <chrono>
#include <string>
#include <vector>

#include "dns/exchange.h"
#include "dns/message.h"

namespace sc::dns {

class Lookup {
 public:
  virtual ~Lookup() = default;
  // The TXT values at `name` as the resolvers see it; none for NXDOMAIN or no data.
  virtual Result<std::vector<std::string>> txt(const std::string& name) = 0;
};

// A zone's own servers: the addresses of its NS names, and the names that gave
// none, each with why ("ns2.example.test: no A or AAAA record (NXDOMAIN)").
struct ZoneServers {
  std::vector<Server> servers;
  std::vector<std::string> unresolved;
};

// What dns-01 asks of DNS: where a name's zone is, what its own servers say, and
// RFC 2136 updates of it.
class Zones {
 public:
  virtual ~Zones() = default;
  virtual Result<std::string> zoneOf(const std::string& name) = 0;
  // The zone's own servers (its NS records' addresses) at `port`, looked up within
  // `budget`: names not reached in time are listed as unresolved. An error when
  // the NS records themselves could not be had.
  virtual Result<ZoneServers> authoritativeServers(const std::string& zone, std::chrono::milliseconds budget,
                                                   int port = 53) = 0;
  // The TXT values at `name` as `at` holds them, asked without recursion; the
  // answer's AA bit says whether `at` serves the zone itself.
  virtual Result<Answer> txtAt(const Server& at, const std::string& name) = 0;
  // An RFC 2136 update of `zone`, sent to `at` over TCP.
  virtual Status update(const Server& at, const std::string& zone, const std::vector<TxtChange>& changes,
                        const std::optional<TsigKey>& key) = 0;
};

struct Timing {
  std::chrono::milliseconds perTry{2000};
  int triesPerServer = 2;
};

class Client final : public Lookup, public Zones {
 public:
  Client(std::vector<Server> resolvers, int stopFd, Timing timing = {});
  // /etc/resolv.conf's nameservers, read by ldns.
  static Result<std::vector<Server>> systemResolvers(const std::string& file = "/etc/resolv.conf");

  Result<std::vector<std::string>> txt(const std::string& name) override;
  using Deadline = std::chrono::steady_clock::time_point;
  // One question of one server: UDP, then TCP when the answer was truncated; no
  // try goes past `by`.
  Result<Answer> ask(const Question& q, const Server& at, Deadline by = Deadline::max());
  // The zone `name` is in: the owner of the SOA the resolvers give for it.
  Result<std::string> zoneOf(const std::string& name) override;
  Result<ZoneServers> authoritativeServers(const std::string& zone, std::chrono::milliseconds budget,
                                           int port = 53) override;
  Result<Answer> txtAt(const Server& at, const std::string& name) override;
  Status update(const Server& at, const std::string& zone, const std::vector<TxtChange>& changes,
                const std::optional<TsigKey>& key) override;

  const std::vector<Server>& resolvers() const { return resolvers_; }

 private:
  Result<Answer> askResolvers(const Question& q, Deadline by = Deadline::max());
  // The addresses of one NS name at `port`, or why there are none.
  Result<std::vector<Server>> addressesOf(const std::string& host, int port, Deadline by);

  std::vector<Server> resolvers_;
  int stopFd_;
  Timing timing_;
};

}  // namespace sc::dns
