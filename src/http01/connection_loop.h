#pragma once
// The event loop behind every port sidecert listens on (the HTTP-01 responder,
// /metrics): accepts, reads each request head without holding a thread for it,
// answers, sends the answer as the peer takes it, and closes. A connection that
// has not been answered and sent by its deadline is dropped, and when too many
// are open the oldest goes first: a real client (the CA, Prometheus) sends its
// request whole right after its connect, so it is answered long before a flood
// of idle or half-sent connections could push it out.
#include <chrono>
#include <functional>
#include <list>
#include <map>
#include <string>

#include <Poco/AutoPtr.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketNotification.h>
#include <Poco/Net/SocketReactor.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Thread.h>

#include "core/result.h"

namespace sc::http01 {

struct LoopLimits {
  std::size_t maxConnections = 512;  // held at once; beyond it the oldest is dropped
  int timeoutSeconds = 5;            // from connect to the last byte of the answer
  std::size_t maxRequestHead = 4096;
};

// A listening socket on HOST:PORT ("" for every address, IPv6 and IPv4 on one
// socket where the host has IPv6); `what` names it in the error.
Result<Poco::Net::ServerSocket> listenOn(const std::string& host, int port, int backlog, const std::string& what);

// An HTTP/1.1 answer that closes the connection; `withBody` false for HEAD.
std::string httpAnswer(int status, const std::string& contentType, const std::string& body, bool withBody);

class ConnectionLoop final : public Poco::Net::SocketReactor {
 public:
  // The bytes to send for one complete request head (up to its blank line).
  using Answer = std::function<std::string(const std::string& head, const std::string& peer)>;
  // A connection cut off: its head too large, or dropped (idle past its deadline,
  // or the oldest when too many were open).
  enum class Cut { TooLarge, Dropped };
  using OnCut = std::function<void(Cut)>;

  ConnectionLoop(Poco::Net::ServerSocket listener, LoopLimits limits, Answer answer, OnCut onCut, std::string name);
  ~ConnectionLoop() override;
  void begin();  // on a thread of its own, made now (after privileges are dropped)
  void end();    // at once: the poll is interrupted, every connection closed
  int port() const;

 protected:
  void onBusy() override;
  void onTimeout() override;

 private:
  struct Connection {
    Poco::Net::StreamSocket socket;
    std::string head;
    std::string out;         // the answer's bytes not yet taken by the peer
    std::size_t sent = 0;
    std::chrono::steady_clock::time_point deadline;
  };
  using Connections = std::list<Connection>;

  void onAcceptable(const Poco::AutoPtr<Poco::Net::ReadableNotification>& n);
  void onReadable(const Poco::AutoPtr<Poco::Net::ReadableNotification>& n);
  void onWritable(const Poco::AutoPtr<Poco::Net::WritableNotification>& n);
  void read(Connections::iterator c);
  void send(Connections::iterator c);
  void close(Connections::iterator c);
  void dropExpired();

  Poco::Net::ServerSocket listener_;
  LoopLimits limits_;
  Answer answer_;
  OnCut onCut_;
  Poco::Thread thread_;
  bool ended_ = false;
  Connections connections_;  // oldest first, so also in order of deadline
  std::map<Poco::Net::Socket, Connections::iterator> bySocket_;
};

}  // namespace sc::http01
