#pragma once
// A CurlTransport borrowed from the pool (net/transport_pool.h) on a lineage's
// first request to its CA, and given back after each pass: a lineage that never
// talks to a CA (self-signed only, no CA configured) holds no libcurl handles, and
// an idle one none between passes (libcurl's multi handle keeps a socket pair, so
// 10,000 lineages each holding one ran out of descriptors before they started).
#include <memory>

#include "net/curl_transport.h"
#include "net/transport_pool.h"

namespace sc::net {

class LazyTransport final : public acme::HttpTransport {
 public:
  explicit LazyTransport(TransportPool& pool) : pool_(pool) {}
  Result<acme::HttpResponse> get(const std::string& url) override;
  Result<acme::HttpResponse> head(const std::string& url) override;
  Result<acme::HttpResponse> post(const std::string& url, const std::string& body, const std::string& accept) override;
  void setDeadline(std::optional<std::chrono::steady_clock::time_point> deadline) override;
  // Gives the transport back to the pool; the next request borrows one again.
  // Only between passes: no request of this lineage may be under way.
  void release() { pool_.giveBack(std::move(made_)); }
  bool holdsHandles() const { return made_ != nullptr; }

 private:
  Result<CurlTransport*> made();
  TransportPool& pool_;
  std::unique_ptr<CurlTransport> made_;
  std::optional<std::chrono::steady_clock::time_point> deadline_;
};

}  // namespace sc::net
