#pragma once
// acme::HttpTransport over libcurl: https only, one reused connection (the CA is
// one host), bounded in time and in the size of what it accepts.
#include <memory>
#include <string>

#include "acme/transport.h"
#include "core/stop.h"

namespace sc::net {

// "libcurl 7.88.1 (HTTP HTTPS SMTP SMTPS)": the version linked and the protocols it
// was built with, for `sidecert version`.
std::string curlDescription();

struct CurlOptions {
  std::string caBundle;  // empty: the system's roots
  std::string userAgent = "sidecert";
  // Readable when the process must stop: a transfer under way ends at once with
  // ErrorKind::Cancelled. -1: none.
  int stopFd = -1;
};

class CurlTransport final : public acme::HttpTransport {
 public:
  static Result<std::unique_ptr<CurlTransport>> create(const CurlOptions& options);
  ~CurlTransport() override;
  Result<acme::HttpResponse> get(const std::string& url) override;
  Result<acme::HttpResponse> head(const std::string& url) override;
  Result<acme::HttpResponse> post(const std::string& url, const std::string& body, const std::string& accept) override;
  void setDeadline(std::optional<std::chrono::steady_clock::time_point> deadline) override { deadline_ = deadline; }

 private:
  CurlTransport(void* multi, void* easy, CurlOptions options)
      : multi_(multi), curl_(easy), options_(std::move(options)) {}
  Result<acme::HttpResponse> perform(const std::string& method, const std::string& url, const std::string* body,
                                     const std::string& accept);
  // Runs the easy handle's transfer on the multi handle, watching the stop fd.
  Result<int> transfer(const std::string& what);
  void* multi_;  // holds the connection cache: the CA is one host
  void* curl_;
  CurlOptions options_;
  std::optional<std::chrono::steady_clock::time_point> deadline_;
};

// Sleeps that end when the process is told to stop.
class RealSleeper final : public acme::Sleeper {
 public:
  explicit RealSleeper(const StopSignal& stop) : stop_(stop) {}
  void sleep(std::chrono::milliseconds d) override { stop_.sleepFor(d); }
  bool cancelled() const override { return stop_.requested(); }

 private:
  const StopSignal& stop_;
};

}  // namespace sc::net
