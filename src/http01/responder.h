#pragma once
// The HTTP-01 responder: answers GET and HEAD of
// /.well-known/acme-challenge/<token> for tokens of orders in flight, 404 for
// anything else. It faces the internet, so everything about a request is bounded.
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "acme/challenge_publisher.h"
#include "core/result.h"

namespace Poco::Net {
class HTTPServer;
}

namespace sc::http01 {

struct Limits {
  int maxThreads = 4;       // answering a token is microseconds of work
  int maxQueued = 64;       // connections waiting beyond that are refused
  int timeoutSeconds = 5;   // for the request to arrive: slow clients are cut off
  std::size_t maxUri = 256; // a challenge path is ~80 characters
};

class TokenStore final : public acme::ChallengePublisher {
 public:
  void publish(const std::string& token, const std::string& keyAuthorization) override;
  void withdraw(const std::string& token) override;
  std::optional<std::string> find(const std::string& token) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::string> tokens_;
};

// Tokens are base64url (RFC 8555 8.3): anything else is not looked up at all.
bool isToken(const std::string& s);

class Responder {
 public:
  // Binds now (so privileges can be dropped before start()).
  static Result<std::unique_ptr<Responder>> bind(const std::string& host, int port, std::shared_ptr<TokenStore> tokens,
                                                 Limits limits = {});
  ~Responder();
  void start();
  void stop();
  int port() const;

 private:
  Responder() = default;
  std::unique_ptr<Poco::Net::HTTPServer> server_;
  int port_ = 0;
};

}  // namespace sc::http01
