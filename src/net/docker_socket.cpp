#include "net/docker_socket.h"

#include <curl/curl.h>

#include <memory>

#include "net/bounded_body.h"
#include "net/stoppable_transfer.h"

namespace sc::net {
namespace {

// The oldest API the engines of Debian 12 (20.10) and today both speak.
constexpr const char* kApiVersion = "/v1.41";
constexpr long kTimeoutSeconds = 60;  // a restart waits for the gateway to stop
constexpr std::size_t kMaxBody = 4 << 20;

}  // namespace

DockerSocket::DockerSocket(std::string socketPath, int stopFd) : socket_(std::move(socketPath)), stopFd_(stopFd) {}

Result<EngineReply> DockerSocket::call(const std::string& method, const std::string& path,
                                              const std::string& body) {
  std::unique_ptr<CURLM, CURLMcode (*)(CURLM*)> m(curl_multi_init(), curl_multi_cleanup);
  std::unique_ptr<CURL, void (*)(CURL*)> c(curl_easy_init(), curl_easy_cleanup);
  if (!m || !c) return fail("libcurl: no handle");
  EngineReply reply;
  char errbuf[CURL_ERROR_SIZE] = {0};
  std::string url = std::string("http://docker") + kApiVersion + path;
  curl_easy_setopt(c.get(), CURLOPT_UNIX_SOCKET_PATH, socket_.c_str());
  curl_easy_setopt(c.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(c.get(), CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(c.get(), CURLOPT_TIMEOUT, kTimeoutSeconds);
  curl_easy_setopt(c.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c.get(), CURLOPT_ERRORBUFFER, errbuf);
  BoundedBody received{reply.body, kMaxBody};
  curl_easy_setopt(c.get(), CURLOPT_WRITEFUNCTION, appendBounded);
  curl_easy_setopt(c.get(), CURLOPT_WRITEDATA, &received);
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  curl_easy_setopt(c.get(), CURLOPT_HTTPHEADER, headers);
  if (method == "POST") {
    curl_easy_setopt(c.get(), CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(c.get(), CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  auto outcome = transferUntilStopped(m.get(), c.get(), stopFd_, "Docker engine: " + method + " " + path);
  curl_slist_free_all(headers);
  if (!outcome) return std::unexpected(outcome.error());
  CURLcode rc = *outcome;
  if (received.tooLarge) return fail("the Docker engine's reply to " + method + " " + path + " is larger than 4 MiB");
  if (rc != CURLE_OK)
    return fail("the Docker engine at " + socket_ + " did not answer " + method + " " + path + ": " +
                (errbuf[0] ? errbuf : curl_easy_strerror(rc)) + " (is the socket mounted?)");
  curl_easy_getinfo(c.get(), CURLINFO_RESPONSE_CODE, &reply.status);
  return reply;
}

}  // namespace sc::net
