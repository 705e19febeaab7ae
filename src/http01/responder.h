#pragma once
#include <array>
#include <atomic>
// The HTTP-01 responder: answers GET and HEAD of
// /.well-known/acme-challenge/<token> for tokens of orders in flight, 404 for
// anything else. It faces the internet, so everything about a request is bounded.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "acme/challenge_publisher.h"
#include "acme/transport.h"
#include "core/result.h"

namespace sc::http01 {

class ConnectionLoop;

struct Limits {
  // Connections held at once; beyond it the oldest is dropped, so a flood of idle
  // connections (slowloris) cannot keep the CA's validation request waiting.
  std::size_t maxConnections = 512;
  int timeoutSeconds = 5;    // for the request to arrive: slow clients are cut off
  std::size_t maxUri = 256;  // a challenge path is ~80 characters
  std::size_t maxRequestHead = 4096;
};

class TokenStore final : public acme::ChallengePublisher {
 public:
  void publish(const std::string& token, const std::string& keyAuthorization) override;
  void withdraw(const std::string& token) override;
  std::optional<std::string> find(const std::string& token) const;

  // What the responder answered, for /metrics: a token served, a path it does not
  // know, a request it could not read, a request head too large, a connection cut
  // off (idle past the timeout, or the oldest when too many were open).
  enum class Answer { Served, NotFound, BadRequest, TooLarge, Dropped };
  static constexpr std::size_t kAnswers = 5;
  void count(Answer a) { answers_[static_cast<std::size_t>(a)].fetch_add(1, std::memory_order_relaxed); }
  std::uint64_t answered(Answer a) const {
    return answers_[static_cast<std::size_t>(a)].load(std::memory_order_relaxed);
  }

  // How many times a token has been served; the responder counts each answer.
  void noteServed();
  std::uint64_t servedCount() const;
  // Waits until the count passes `seen` or `d` passes; returns the count.
  std::uint64_t waitForServeAfter(std::uint64_t seen, std::chrono::milliseconds d) const;

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable served_;
  std::map<std::string, std::string> tokens_;
  std::uint64_t servedCount_ = 0;
  std::array<std::atomic<std::uint64_t>, kAnswers> answers_{};
};

// Polls of a pending authorization wait for the CA's fetch of a token instead of
// a guess: the pause ends a moment after the responder answers the CA, which is
// when the CA decides. Without a fetch the pause lasts as asked.
class FetchAwareSleeper final : public acme::Sleeper {
 public:
  // The moment the CA needs between fetching a token and recording its verdict.
  static constexpr std::chrono::milliseconds kVerdictGrace{10};
  FetchAwareSleeper(acme::Sleeper& inner, const TokenStore& tokens) : inner_(inner), tokens_(tokens) {}
  void sleep(std::chrono::milliseconds d) override { inner_.sleep(d); }
  void pollPause(std::chrono::milliseconds d) override;
  bool cancelled() const override { return inner_.cancelled(); }

 private:
  // The longest wait for a fetch before looking whether the process must stop.
  static constexpr std::chrono::milliseconds kStopCheck{100};
  acme::Sleeper& inner_;
  const TokenStore& tokens_;
  std::uint64_t seen_ = 0;  // fetches that already ended a pause (one poller: the supervisor)
};

// Tokens are base64url (RFC 8555 8.3): anything else is not looked up at all.
bool isToken(const std::string& s);

// One thread runs an event loop over every open connection (Poco's SocketReactor);
// Poco's HTTP classes read the request and write the answer.
// The bytes to send back for one request head (everything up to its blank line):
// the key authorization of a token in flight, 404 for anything else.
std::string replyTo(const std::string& head, TokenStore& tokens, std::size_t maxUri, const std::string& peer);

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
  std::unique_ptr<ConnectionLoop> loop_;
  int port_ = 0;
};

}  // namespace sc::http01
