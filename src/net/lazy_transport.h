#pragma once
// A CurlTransport made on a lineage's first request to its CA, and let go after
// each pass: a lineage that never talks to a CA (self-signed only, no CA
// configured) holds no libcurl handles, and an idle one none between passes
// (libcurl's multi handle keeps a socket pair, so 10,000 lineages each holding one
// ran out of descriptors before they started). Passes are days apart: a kept-alive
// connection would not outlive the wait anyway.
#include <memory>

#include "net/curl_transport.h"

namespace sc::net {

class LazyTransport final : public acme::HttpTransport {
 public:
  explicit LazyTransport(CurlOptions options) : options_(std::move(options)) {}
  Result<acme::HttpResponse> get(const std::string& url) override;
  Result<acme::HttpResponse> head(const std::string& url) override;
  Result<acme::HttpResponse> post(const std::string& url, const std::string& body, const std::string& accept) override;
  void setDeadline(std::optional<std::chrono::steady_clock::time_point> deadline) override;
  // Closes the connection and frees the handles; the next request makes them anew.
  // Only between passes: no request of this lineage may be under way.
  void release() { made_.reset(); }
  bool holdsHandles() const { return made_ != nullptr; }

 private:
  Result<CurlTransport*> made();
  CurlOptions options_;
  std::unique_ptr<CurlTransport> made_;
  std::optional<std::chrono::steady_clock::time_point> deadline_;
};

}  // namespace sc::net
