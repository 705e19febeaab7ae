#include "http01/responder.h"

#include <algorithm>
#include <sstream>

#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/ServerSocket.h>

#include "http01/connection_loop.h"
#include "log/log.h"

namespace sc::http01 {
namespace {

using Poco::Net::HTTPResponse;

const std::string kPrefix = "/.well-known/acme-challenge/";
constexpr std::size_t kMaxToken = 128;

std::string render(HTTPResponse::HTTPStatus status, const std::string& body, bool withBody) {
  return httpAnswer(status, "text/plain", body, withBody);
}

}  // namespace

std::string replyTo(const std::string& head, TokenStore& tokens, std::size_t maxUri, const std::string& peer) {
  Poco::Net::HTTPRequest req;
  try {
    std::istringstream in(head);
    req.read(in);
  } catch (const Poco::Exception&) {
    tokens.count(TokenStore::Answer::BadRequest);
    return render(HTTPResponse::HTTP_BAD_REQUEST, "bad request\n", true);
  }
  const std::string& uri = req.getURI();
  bool get = req.getMethod() == "GET", isHead = req.getMethod() == "HEAD";
  if ((get || isHead) && uri.size() <= maxUri && uri.rfind(kPrefix, 0) == 0) {
    std::string token = uri.substr(kPrefix.size());
    if (isToken(token))
      if (auto keyAuth = tokens.find(token)) {
        log::info("challenge_served", {{"token_prefix", token.substr(0, 8)}, {"from", peer}});
        tokens.noteServed();
        tokens.count(TokenStore::Answer::Served);
        return render(HTTPResponse::HTTP_OK, *keyAuth, get);
      }
  }
  tokens.count(TokenStore::Answer::NotFound);
  return render(HTTPResponse::HTTP_NOT_FOUND, "not found\n", !isHead);
}

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
  auto count = seen_;
  for (auto left = d; count <= seen_ && left.count() > 0 && !cancelled();) {
    count = tokens_.waitForServeAfter(seen_, std::min(left, kStopCheck));
    left = d - std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  }
  if (count > seen_) {
    auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    if (waited < d) inner_.sleep(std::min(kVerdictGrace, d - waited));
    // fetches from the CA's other vantage points during the grace belong to this pause
    seen_ = tokens_.servedCount();
  }
}

Result<std::unique_ptr<Responder>> Responder::bind(const std::string& host, int port, std::shared_ptr<TokenStore> tokens,
                                                   Limits limits) {
  // The kernel queues bursts; the loop accepts them at once.
  auto socket = listenOn(host, port, 1024, "HTTP-01 responder");
  if (!socket) return std::unexpected(socket.error());
  std::unique_ptr<Responder> r(new Responder);
  r->port_ = socket->address().port();
  auto answer = [tokens, maxUri = limits.maxUri](const std::string& head, const std::string& peer) {
    return replyTo(head, *tokens, maxUri, peer);
  };
  auto onCut = [tokens](ConnectionLoop::Cut cut) {
    tokens->count(cut == ConnectionLoop::Cut::TooLarge ? TokenStore::Answer::TooLarge : TokenStore::Answer::Dropped);
  };
  r->loop_ = std::make_unique<ConnectionLoop>(*socket, LoopLimits{limits.maxConnections, limits.timeoutSeconds,
                                                                  limits.maxRequestHead},
                                              answer, onCut, "http01");
  return r;
}

Responder::~Responder() { stop(); }

void Responder::start() { loop_->begin(); }

void Responder::stop() {
  if (loop_) loop_->end();
  loop_.reset();
}

int Responder::port() const { return port_; }

}  // namespace sc::http01
