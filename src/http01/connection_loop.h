#pragma once
// The responder's event loop: accepts, reads each request head without blocking a
// thread on it, answers and closes. Connections idle past the timeout are dropped,
// and when too many are open the oldest goes first: a CA's validation request
// arrives whole right after its connect, so it is answered before it could age out.
#include <chrono>
#include <list>
#include <map>
#include <memory>
#include <string>

#include <Poco/AutoPtr.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketNotification.h>
#include <Poco/Net/SocketReactor.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Thread.h>

#include "http01/responder.h"

namespace sc::http01 {

// The bytes to send back for one request head (everything up to its blank line);
// in responder.cpp, with the rules of what is answered.
std::string replyTo(const std::string& head, TokenStore& tokens, std::size_t maxUri, const std::string& peer);

class Responder::Loop final : public Poco::Net::SocketReactor {
 public:
  Loop(Poco::Net::ServerSocket listener, std::shared_ptr<TokenStore> tokens, Limits limits);
  ~Loop() override;
  void begin();
  void end();

 protected:
  void onBusy() override;
  void onTimeout() override;

 private:
  struct Connection {
    Poco::Net::StreamSocket socket;
    std::string head;
    std::chrono::steady_clock::time_point deadline;
  };
  using Connections = std::list<Connection>;

  void onAcceptable(const Poco::AutoPtr<Poco::Net::ReadableNotification>& n);
  void onReadable(const Poco::AutoPtr<Poco::Net::ReadableNotification>& n);
  void read(Connections::iterator c);
  void close(Connections::iterator c);
  void dropExpired();

  Poco::Net::ServerSocket listener_;
  std::shared_ptr<TokenStore> tokens_;
  Limits limits_;
  Poco::Thread thread_;
  Connections connections_;  // oldest first, so also in order of deadline
  std::map<Poco::Net::Socket, Connections::iterator> bySocket_;
};

}  // namespace sc::http01
