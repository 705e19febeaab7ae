#include "http01/connection_loop.h"

#include <sstream>

#include <Poco/NObserver.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>

namespace sc::http01 {

using Poco::Net::ReadableNotification;
using Poco::Net::WritableNotification;
using Clock = std::chrono::steady_clock;

namespace {
std::string peerOf(const Poco::Net::StreamSocket& s) {
  try {
    return s.peerAddress().host().toString();
  } catch (const Poco::Exception&) {
    return "gone";  // it sent its request and hung up
  }
}

const char* const kTooLarge =
    "HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
}  // namespace

Result<Poco::Net::ServerSocket> listenOn(const std::string& host, int port, int backlog, const std::string& what) {
  Poco::Net::ServerSocket socket;
  auto p = static_cast<Poco::UInt16>(port);
  std::string where = (host.empty() ? "*" : host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
                      std::to_string(port);
  try {
    if (host.empty()) {
      try {
        socket.bind6(Poco::Net::SocketAddress(Poco::Net::IPAddress::wildcard(Poco::Net::IPAddress::IPv6), p), true,
                     false, false);
      } catch (const Poco::Exception&) {
        socket = Poco::Net::ServerSocket();
        socket.bind(Poco::Net::SocketAddress(Poco::Net::IPAddress(), p), true, false);
      }
    } else if (host.find(':') != std::string::npos) {
      socket.bind6(Poco::Net::SocketAddress(host, p), true, false, true);
    } else {
      socket.bind(Poco::Net::SocketAddress(host, p), true, false);
    }
    socket.listen(backlog);
  } catch (const Poco::Exception& e) {
    return fail(what + ": listen on " + where + ": " + e.displayText());
  }
  return socket;
}

std::string httpAnswer(int status, const std::string& contentType, const std::string& body, bool withBody) {
  Poco::Net::HTTPResponse res(Poco::Net::HTTPMessage::HTTP_1_1, static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
  res.setContentType(contentType);
  res.setContentLength(static_cast<std::streamsize>(body.size()));
  res.setKeepAlive(false);
  res.set("Server", "sidecert");
  std::ostringstream out;
  res.write(out);
  if (withBody) out << body;
  return out.str();
}

ConnectionLoop::ConnectionLoop(Poco::Net::ServerSocket listener, LoopLimits limits, Answer answer, OnCut onCut,
                               std::string name)
    : Poco::Net::SocketReactor(Poco::Timespan(limits.timeoutSeconds, 0)),
      listener_(std::move(listener)),
      limits_(limits),
      answer_(std::move(answer)),
      onCut_(std::move(onCut)),
      thread_(name) {
  addEventHandler(listener_, Poco::NObserver<ConnectionLoop, ReadableNotification>(*this, &ConnectionLoop::onAcceptable));
}

ConnectionLoop::~ConnectionLoop() { end(); }

void ConnectionLoop::begin() { thread_.start(*this); }

int ConnectionLoop::port() const { return listener_.address().port(); }

void ConnectionLoop::end() {
  if (ended_) return;
  ended_ = true;
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
  removeEventHandler(listener_, Poco::NObserver<ConnectionLoop, ReadableNotification>(*this, &ConnectionLoop::onAcceptable));
  listener_.close();
}

void ConnectionLoop::onAcceptable(const Poco::AutoPtr<ReadableNotification>&) {
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
    onCut_(Cut::Dropped);
    close(connections_.begin());
  }
  connections_.push_back({socket, {}, {}, 0, Clock::now() + std::chrono::seconds(limits_.timeoutSeconds)});
  bySocket_[socket] = std::prev(connections_.end());
  addEventHandler(socket, Poco::NObserver<ConnectionLoop, ReadableNotification>(*this, &ConnectionLoop::onReadable));
}

void ConnectionLoop::onReadable(const Poco::AutoPtr<ReadableNotification>& n) {
  auto it = bySocket_.find(n->socket());
  if (it != bySocket_.end()) read(it->second);
}

void ConnectionLoop::onWritable(const Poco::AutoPtr<WritableNotification>& n) {
  auto it = bySocket_.find(n->socket());
  if (it != bySocket_.end()) send(it->second);
}

void ConnectionLoop::read(Connections::iterator c) {
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
  if (!complete) onCut_(Cut::TooLarge);
  c->out = complete ? answer_(c->head, peerOf(c->socket)) : kTooLarge;
  c->head.clear();
  removeEventHandler(c->socket, Poco::NObserver<ConnectionLoop, ReadableNotification>(*this, &ConnectionLoop::onReadable));
  send(c);
}

// As much of the answer as the peer takes now; the rest when it is writable
// again, until the connection's deadline.
void ConnectionLoop::send(Connections::iterator c) {
  int n = 0;
  try {
    n = c->socket.sendBytes(c->out.data() + c->sent, static_cast<int>(c->out.size() - c->sent));
  } catch (const Poco::Exception&) {
    return close(c);
  }
  if (n > 0) c->sent += static_cast<std::size_t>(n);
  if (c->sent >= c->out.size()) return close(c);
  Poco::NObserver<ConnectionLoop, WritableNotification> writable(*this, &ConnectionLoop::onWritable);
  if (!hasEventHandler(c->socket, writable)) addEventHandler(c->socket, writable);
}

void ConnectionLoop::close(Connections::iterator c) {
  removeEventHandler(c->socket, Poco::NObserver<ConnectionLoop, ReadableNotification>(*this, &ConnectionLoop::onReadable));
  removeEventHandler(c->socket, Poco::NObserver<ConnectionLoop, WritableNotification>(*this, &ConnectionLoop::onWritable));
  bySocket_.erase(c->socket);
  try {
    c->socket.close();
  } catch (const Poco::Exception&) {
  }
  connections_.erase(c);
}

void ConnectionLoop::dropExpired() {
  auto now = Clock::now();
  while (!connections_.empty() && connections_.front().deadline <= now) {
    onCut_(Cut::Dropped);
    close(connections_.begin());
  }
}

void ConnectionLoop::onBusy() {
  dropExpired();
  SocketReactor::onBusy();
}

void ConnectionLoop::onTimeout() {
  dropExpired();
  SocketReactor::onTimeout();
}

}  // namespace sc::http01
