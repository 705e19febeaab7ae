#include "http01/responder.h"

#include <algorithm>

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/ServerSocket.h>

#include "log/log.h"

namespace sc::http01 {
namespace {

using Poco::Net::HTTPResponse;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

const std::string kPrefix = "/.well-known/acme-challenge/";
constexpr std::size_t kMaxToken = 128;

void reply(HTTPServerResponse& res, HTTPResponse::HTTPStatus status, const std::string& body, bool withBody) {
  res.setStatus(status);
  res.setContentType("text/plain");
  res.setContentLength(static_cast<std::streamsize>(body.size()));
  res.setKeepAlive(false);
  auto& out = res.send();
  if (withBody) out << body;
}

class ChallengeHandler final : public Poco::Net::HTTPRequestHandler {
 public:
  ChallengeHandler(std::shared_ptr<TokenStore> tokens, std::size_t maxUri) : tokens_(std::move(tokens)), maxUri_(maxUri) {}
  void handleRequest(HTTPServerRequest& req, HTTPServerResponse& res) override {
    const std::string& uri = req.getURI();
    bool get = req.getMethod() == "GET", head = req.getMethod() == "HEAD";
    if ((get || head) && uri.size() <= maxUri_ && uri.rfind(kPrefix, 0) == 0) {
      std::string token = uri.substr(kPrefix.size());
      if (isToken(token))
        if (auto keyAuth = tokens_->find(token)) {
          log::info("challenge_served", {{"token_prefix", token.substr(0, 8)},
                                         {"from", req.clientAddress().host().toString()}});
          reply(res, HTTPResponse::HTTP_OK, *keyAuth, get);
          tokens_->noteServed();
          return;
        }
    }
    reply(res, HTTPResponse::HTTP_NOT_FOUND, "not found\n", !head);
  }

 private:
  std::shared_ptr<TokenStore> tokens_;
  std::size_t maxUri_;
};

class Factory final : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  Factory(std::shared_ptr<TokenStore> tokens, std::size_t maxUri) : tokens_(std::move(tokens)), maxUri_(maxUri) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(const HTTPServerRequest&) override {
    return new ChallengeHandler(tokens_, maxUri_);
  }

 private:
  std::shared_ptr<TokenStore> tokens_;
  std::size_t maxUri_;
};

}  // namespace

bool isToken(const std::string& s) {
  return !s.empty() && s.size() <= kMaxToken &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_'; });
}

void TokenStore::publish(const std::string& token, const std::string& keyAuthorization) {
  std::lock_guard lock(mutex_);
  tokens_[token] = keyAuthorization;
}

void TokenStore::withdraw(const std::string& token) {
  std::lock_guard lock(mutex_);
  tokens_.erase(token);
}

std::optional<std::string> TokenStore::find(const std::string& token) const {
  std::lock_guard lock(mutex_);
  auto it = tokens_.find(token);
  if (it == tokens_.end()) return std::nullopt;
  return it->second;
}

void TokenStore::noteServed() {
  {
    std::lock_guard lock(mutex_);
    ++servedCount_;
  }
  served_.notify_all();
}

std::uint64_t TokenStore::servedCount() const {
  std::lock_guard lock(mutex_);
  return servedCount_;
}

std::uint64_t TokenStore::waitForServeAfter(std::uint64_t seen, std::chrono::milliseconds d) const {
  std::unique_lock lock(mutex_);
  served_.wait_for(lock, d, [&] { return servedCount_ > seen; });
  return servedCount_;
}

void FetchAwareSleeper::pollPause(std::chrono::milliseconds d) {
  auto start = std::chrono::steady_clock::now();
  auto count = tokens_.waitForServeAfter(seen_, d);
  if (count > seen_) {
    auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    if (waited < d) inner_.sleep(std::min(kVerdictGrace, d - waited));
    // fetches from the CA's other vantage points during the grace belong to this pause
    seen_ = tokens_.servedCount();
  }
}

Result<std::unique_ptr<Responder>> Responder::bind(const std::string& host, int port, std::shared_ptr<TokenStore> tokens,
                                                   Limits limits) {
  Poco::Net::ServerSocket socket;
  std::string where = (host.empty() ? "*" : host) + ":" + std::to_string(port);
  try {
    if (host.empty()) {
      // One socket for IPv6 and IPv4 where the host has IPv6; IPv4 alone where not.
      try {
        socket.bind6(Poco::Net::SocketAddress(Poco::Net::IPAddress::wildcard(Poco::Net::IPAddress::IPv6),
                                              static_cast<Poco::UInt16>(port)),
                     true, false, false);
      } catch (const Poco::Exception&) {
        socket = Poco::Net::ServerSocket();
        socket.bind(Poco::Net::SocketAddress(Poco::Net::IPAddress(), static_cast<Poco::UInt16>(port)), true);
      }
    } else if (host.find(':') != std::string::npos) {
      socket.bind6(Poco::Net::SocketAddress(host, static_cast<Poco::UInt16>(port)), true, false, true);
    } else {
      socket.bind(Poco::Net::SocketAddress(host, static_cast<Poco::UInt16>(port)), true);
    }
    socket.listen(limits.maxQueued);
  } catch (const Poco::Exception& e) {
    return fail("HTTP-01 responder: listen on " + where + ": " + e.displayText());
  }
  auto params = new Poco::Net::HTTPServerParams;
  params->setMaxThreads(limits.maxThreads);
  params->setMaxQueued(limits.maxQueued);
  params->setKeepAlive(false);
  params->setTimeout(Poco::Timespan(limits.timeoutSeconds, 0));
  params->setServerName("sidecert");
  std::unique_ptr<Responder> r(new Responder);
  r->port_ = socket.address().port();
  r->socket_ = std::make_unique<Poco::Net::ServerSocket>(socket);
  r->server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(tokens, limits.maxUri), socket, params);
  return r;
}

Responder::~Responder() { stop(); }

void Responder::start() { server_->start(); }

void Responder::stop() {
  if (!server_) return;
  // Poco's accept loop looks at its stop flag only between 250 ms polls; a listening
  // socket shut down for reading wakes that poll at once, so `once` exits promptly.
  try {
    socket_->impl()->shutdownReceive();
  } catch (const Poco::Exception&) {
  }
  server_->stopAll(true);
  server_.reset();
}

int Responder::port() const { return port_; }

}  // namespace sc::http01
