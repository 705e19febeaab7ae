#pragma once
// What the ACME client needs from HTTP, and from time: small, so that tests can
// script a CA's replies and skip the waiting. net/ implements it with libcurl.
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace sc::acme {

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::vector<std::string>> headers;  // names in lower case
  std::string body;
  std::string header(const std::string& lowerName) const {
    auto it = headers.find(lowerName);
    return it == headers.end() || it->second.empty() ? "" : it->second.front();
  }
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  virtual Result<HttpResponse> get(const std::string& url) = 0;
  virtual Result<HttpResponse> head(const std::string& url) = 0;
  // Content-Type application/jose+json.
  virtual Result<HttpResponse> post(const std::string& url, const std::string& body, const std::string& accept) = 0;
  // Until lifted (nullopt), every request ends by `deadline` or fails at once past
  // it: advice asked on a renewal's path (ARI) must not hold the renewal.
  virtual void setDeadline(std::optional<std::chrono::steady_clock::time_point> deadline) = 0;
};

// Sets a transport's deadline for one scope, and lifts it after.
class DeadlineScope {
 public:
  DeadlineScope(HttpTransport& http, std::chrono::milliseconds limit) : http_(http) {
    http_.setDeadline(std::chrono::steady_clock::now() + limit);
  }
  ~DeadlineScope() { http_.setDeadline(std::nullopt); }
  DeadlineScope(const DeadlineScope&) = delete;
  DeadlineScope& operator=(const DeadlineScope&) = delete;

 private:
  HttpTransport& http_;
};

class Sleeper {
 public:
  virtual ~Sleeper() = default;
  virtual void sleep(std::chrono::milliseconds d) = 0;
  // A pause between polls of a resource that is still pending, when the CA named
  // no Retry-After: one that sees the validation happen may end it early.
  virtual void pollPause(std::chrono::milliseconds d) { sleep(d); }
  // True once the process was told to stop: every sleep has then ended early, and
  // nothing new may begin.
  virtual bool cancelled() const { return false; }
};

}  // namespace sc::acme
