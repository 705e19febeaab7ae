#pragma once
// Connections to the CAs, lent to a lineage for one pass and taken back after it.
// Lineages start together (a stack of 1,000 names, or a restart): each pass making
// its own TLS connection meant a handshake on both ends, the CA bundle read again,
// and the directory fetched anew on it, for each of them. Passes run a few at a
// time (app/pass_pool.h), so a few transports serve them all; a CA is one host,
// and a transport's connection cache keeps one connection per host.
#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include "net/curl_transport.h"

namespace sc::net {

class TransportPool {
 public:
  // Keeps at most `keep` idle transports; one given back beyond that is closed.
  TransportPool(CurlOptions options, std::size_t keep) : options_(std::move(options)), keep_(keep) {}
  // An idle transport, most recently used first (its connection is the likeliest
  // still open), else a new one.
  Result<std::unique_ptr<CurlTransport>> borrow();
  void giveBack(std::unique_ptr<CurlTransport> transport);
  // Closes the idle ones: once a burst of passes ends, the next is hours away and
  // a kept connection would not outlive the wait.
  void closeIdle();
  std::size_t idle() const;

 private:
  CurlOptions options_;
  std::size_t keep_;
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<CurlTransport>> idle_;
};

}  // namespace sc::net
