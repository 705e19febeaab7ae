#include "metrics/server.h"

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/ThreadPool.h>

namespace sc::metrics {
namespace {

using Poco::Net::HTTPResponse;

class Handler final : public Poco::Net::HTTPRequestHandler {
 public:
  explicit Handler(std::shared_ptr<Registry> registry) : registry_(std::move(registry)) {}
  void handleRequest(Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& res) override {
    res.setKeepAlive(false);
    bool known = req.getURI() == "/metrics" || req.getURI().rfind("/metrics?", 0) == 0;
    bool method = req.getMethod() == "GET" || req.getMethod() == "HEAD";
    std::string body = !known ? "not found: sidecert serves /metrics only\n"
                       : !method ? "only GET and HEAD\n"
                                 : registry_->render();
    res.setStatus(!known ? HTTPResponse::HTTP_NOT_FOUND
                  : !method ? HTTPResponse::HTTP_METHOD_NOT_ALLOWED
                            : HTTPResponse::HTTP_OK);
    res.setContentType(known && method ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain");
    res.setContentLength(static_cast<std::streamsize>(body.size()));
    auto& out = res.send();
    if (req.getMethod() != "HEAD") out << body;
  }

 private:
  std::shared_ptr<Registry> registry_;
};

class Factory final : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit Factory(std::shared_ptr<Registry> registry) : registry_(std::move(registry)) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
    return new Handler(registry_);
  }

 private:
  std::shared_ptr<Registry> registry_;
};

}  // namespace

struct Server::Impl {
  Poco::Net::ServerSocket socket;
  std::shared_ptr<Registry> registry;
  // Made in start(), after privileges are dropped: capabilities belong to the
  // thread, and the pool's threads start with it.
  std::unique_ptr<Poco::ThreadPool> threads;
  std::unique_ptr<Poco::Net::HTTPServer> http;
};

Result<std::unique_ptr<Server>> Server::bind(const Listen& listen, std::shared_ptr<Registry> registry) {
  auto impl = std::make_unique<Impl>();
  try {
    Poco::UInt16 port = static_cast<Poco::UInt16>(listen.port);
    if (listen.host.empty()) {
      try {  // IPv6 and IPv4 on one socket where the host has IPv6
        impl->socket.bind6(Poco::Net::SocketAddress(Poco::Net::IPAddress::wildcard(Poco::Net::IPAddress::IPv6), port),
                           true, false, false);
      } catch (const Poco::Exception&) {
        impl->socket = Poco::Net::ServerSocket();
        impl->socket.bind(Poco::Net::SocketAddress(Poco::Net::IPAddress(), port), true, false);
      }
    } else {
      impl->socket.bind(Poco::Net::SocketAddress(listen.host, port), true, false);
    }
    impl->socket.listen(64);
  } catch (const Poco::Exception& e) {
    return fail("metrics: listen on " + listen.describe() + ": " + e.displayText());
  }
  impl->registry = std::move(registry);
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { stop(); }

void Server::start() {
  if (impl_->http) return;
  auto params = new Poco::Net::HTTPServerParams;
  params->setMaxThreads(2);
  params->setMaxQueued(16);
  params->setTimeout(Poco::Timespan(5, 0));
  params->setKeepAlive(false);
  impl_->threads = std::make_unique<Poco::ThreadPool>(1, 2);
  impl_->http = std::make_unique<Poco::Net::HTTPServer>(new Factory(impl_->registry), *impl_->threads, impl_->socket,
                                                        params);
  impl_->http->start();
}

void Server::stop() {
  if (!impl_ || !impl_->http) return;
  impl_->http->stopAll(true);
  impl_->http.reset();
  impl_->threads->joinAll();
  impl_->threads.reset();
}

int Server::port() const { return impl_->socket.address().port(); }

}  // namespace sc::metrics
