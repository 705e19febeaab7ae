#include "metrics/server.h"

#include <optional>
#include <sstream>

#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>

#include "http01/connection_loop.h"

namespace sc::metrics {
namespace {

using Poco::Net::HTTPResponse;

// Anything on the network can reach the port (in a compose stack, every container
// beside it): idle and half-sent connections are dropped after a few seconds and
// the oldest first beyond the bound, so a scrape is answered whatever they do.
constexpr http01::LoopLimits kLimits{1024, 5, 4096};

std::string answer(const std::string& head, Registry& registry) {
  Poco::Net::HTTPRequest req;
  try {
    std::istringstream in(head);
    req.read(in);
  } catch (const Poco::Exception&) {
    return http01::httpAnswer(HTTPResponse::HTTP_BAD_REQUEST, "text/plain", "bad request\n", true);
  }
  const std::string& uri = req.getURI();
  bool known = uri == "/metrics" || uri.rfind("/metrics?", 0) == 0;
  bool get = req.getMethod() == "GET", isHead = req.getMethod() == "HEAD";
  if (!known) return http01::httpAnswer(HTTPResponse::HTTP_NOT_FOUND, "text/plain", "not found: sidecert serves /metrics only\n", !isHead);
  if (!get && !isHead) return http01::httpAnswer(HTTPResponse::HTTP_METHOD_NOT_ALLOWED, "text/plain", "only GET and HEAD\n", true);
  return http01::httpAnswer(HTTPResponse::HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", registry.render(), get);
}

}  // namespace

struct Server::Impl {
  std::optional<http01::ConnectionLoop> loop;
};

Result<std::unique_ptr<Server>> Server::bind(const Listen& listen, std::shared_ptr<Registry> registry) {
  auto socket = http01::listenOn(listen.host, listen.port, 128, "metrics");
  if (!socket) return std::unexpected(socket.error());
  auto impl = std::make_unique<Impl>();
  impl->loop.emplace(
      *socket, kLimits, [registry](const std::string& head, const std::string&) { return answer(head, *registry); },
      [](http01::ConnectionLoop::Cut) {}, "metrics");
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { stop(); }

// The loop's thread is made here, after privileges are dropped: capabilities
// belong to the thread.
void Server::start() { impl_->loop->begin(); }

void Server::stop() {
  if (impl_ && impl_->loop) impl_->loop->end();
}

int Server::port() const { return impl_->loop->port(); }

}  // namespace sc::metrics
