#include "http01/connection_loop.h"

#include <Poco/NObserver.h>
#include <Poco/Net/NetException.h>

namespace sc::http01 {

using Poco::Net::ReadableNotification;
using Clock = std::chrono::steady_clock;

namespace {
std::string peerOf(const Poco::Net::StreamSocket& s) {
  try {
    return s.peerAddress().host().toString();
  } catch (const Poco::Exception&) {
    return "gone";  // it sent its request and hung up
  }
}
}  // namespace

Responder::Loop::Loop(Poco::Net::ServerSocket listener, std::shared_ptr<TokenStore> tokens, Limits limits)
    : Poco::Net::SocketReactor(Poco::Timespan(limits.timeoutSeconds, 0)),
      listener_(std::move(listener)),
      tokens_(std::move(tokens)),
      limits_(limits),
      thread_("http01") {
  addEventHandler(listener_, Poco::NObserver<Loop, ReadableNotification>(*this, &Loop::onAcceptable));
}

Responder::Loop::~Loop() { end(); }

void Responder::Loop::begin() { thread_.start(*this); }

void Responder::Loop::end() {
  if (thread_.isRunning()) {
    stop();
    // Poco 1.11's wakeUp() does not interrupt the poll; a listening socket shut
    // down for reading does, so the loop sees the stop now, not at its timeout.
    try {
      listener_.impl()->shutdownReceive();
    } catch (const Poco::Exception&) {
    }
    thread_.join();
  }
  while (!connections_.empty()) close(connections_.begin());
  removeEventHandler(listener_, Poco::NObserver<Loop, ReadableNotification>(*this, &Loop::onAcceptable));
  listener_.close();
}

void Responder::Loop::onAcceptable(const Poco::AutoPtr<ReadableNotification>&) {
  Poco::Net::StreamSocket socket;
  try {
    socket = listener_.acceptConnection();
    socket.setBlocking(false);
  } catch (const Poco::Exception&) {
    // out of descriptors, or the peer gave up: make room and let the next round accept
    if (!connections_.empty()) close(connections_.begin());
    return;
  }
  if (connections_.size() >= limits_.maxConnections) {
    tokens_->count(TokenStore::Answer::Dropped);
    close(connections_.begin());
  }
  connections_.push_back({socket, {}, Clock::now() + std::chrono::seconds(limits_.timeoutSeconds)});
  bySocket_[socket] = std::prev(connections_.end());
  addEventHandler(socket, Poco::NObserver<Loop, ReadableNotification>(*this, &Loop::onReadable));
}

void Responder::Loop::onReadable(const Poco::AutoPtr<ReadableNotification>& n) {
  auto it = bySocket_.find(n->socket());
  if (it != bySocket_.end()) read(it->second);
}

void Responder::Loop::read(Connections::iterator c) {
  char buffer[1024];
  int got = 0;
  try {
    got = c->socket.receiveBytes(buffer, sizeof buffer);
  } catch (const Poco::Exception&) {
    return close(c);
  }
  if (got < 0) return;  // nothing after all (EAGAIN)
  if (got == 0) return close(c);
  c->head.append(buffer, static_cast<std::size_t>(got));
  bool complete = c->head.find("\r\n\r\n") != std::string::npos;
  if (!complete && c->head.size() <= limits_.maxRequestHead) return;
  if (!complete) tokens_->count(TokenStore::Answer::TooLarge);
  std::string reply = complete ? replyTo(c->head, *tokens_, limits_.maxUri, peerOf(c->socket))
                               : "HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n"
                                 "Content-Length: 0\r\n\r\n";
  try {
    c->socket.sendBytes(reply.data(), static_cast<int>(reply.size()));  // a few hundred bytes: fits the send buffer
  } catch (const Poco::Exception&) {
  }
  close(c);
}

void Responder::Loop::close(Connections::iterator c) {
  removeEventHandler(c->socket, Poco::NObserver<Loop, ReadableNotification>(*this, &Loop::onReadable));
  bySocket_.erase(c->socket);
  try {
    c->socket.close();
  } catch (const Poco::Exception&) {
  }
  connections_.erase(c);
}

void Responder::Loop::dropExpired() {
  auto now = Clock::now();
  while (!connections_.empty() && connections_.front().deadline <= now) {
    tokens_->count(TokenStore::Answer::Dropped);
    close(connections_.begin());
  }
}

void Responder::Loop::onBusy() {
  dropExpired();
  SocketReactor::onBusy();
}

void Responder::Loop::onTimeout() {
  dropExpired();
  SocketReactor::onTimeout();
}

}  // namespace sc::http01
