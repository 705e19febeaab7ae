#pragma once
// acme::HttpTransport over libcurl: https only, one reused connection (the CA is
// one host), bounded in time and in the size of what it accepts.
#include <memory>
#include <string>

#include "acme/transport.h"

namespace sc::net {

struct CurlOptions {
  std::string caBundle;  // empty: the system's roots
  std::string userAgent = "sidecert";
};

class CurlTransport final : public acme::HttpTransport {
 public:
  static Result<std::unique_ptr<CurlTransport>> create(const CurlOptions& options);
  ~CurlTransport() override;
  Result<acme::HttpResponse> get(const std::string& url) override;
  Result<acme::HttpResponse> head(const std::string& url) override;
  Result<acme::HttpResponse> post(const std::string& url, const std::string& body, const std::string& accept) override;

 private:
  CurlTransport(void* handle, CurlOptions options) : curl_(handle), options_(std::move(options)) {}
  Result<acme::HttpResponse> perform(const std::string& method, const std::string& url, const std::string* body,
                                     const std::string& accept);
  void* curl_;
  CurlOptions options_;
};

class RealSleeper final : public acme::Sleeper {
 public:
  void sleep(std::chrono::milliseconds d) override;
};

}  // namespace sc::net
