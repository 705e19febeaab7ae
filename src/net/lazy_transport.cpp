#include "net/lazy_transport.h"

namespace sc::net {

Result<CurlTransport*> LazyTransport::made() {
  if (!made_) {
    auto created = pool_.borrow();
    if (!created) return std::unexpected(created.error());
    made_ = std::move(*created);
    made_->setDeadline(deadline_);
  }
  return made_.get();
}

Result<acme::HttpResponse> LazyTransport::get(const std::string& url) {
  auto http = made();
  if (!http) return std::unexpected(http.error());
  return (*http)->get(url);
}

Result<acme::HttpResponse> LazyTransport::head(const std::string& url) {
  auto http = made();
  if (!http) return std::unexpected(http.error());
  return (*http)->head(url);
}

Result<acme::HttpResponse> LazyTransport::post(const std::string& url, const std::string& body,
                                               const std::string& accept) {
  auto http = made();
  if (!http) return std::unexpected(http.error());
  return (*http)->post(url, body, accept);
}

void LazyTransport::setDeadline(std::optional<std::chrono::steady_clock::time_point> deadline) {
  deadline_ = deadline;
  if (made_) made_->setDeadline(deadline);
}

}  // namespace sc::net
