#include "net/http_probe.h"

#include <curl/curl.h>

#include <memory>

#include "net/bounded_body.h"
#include "net/stoppable_transfer.h"

namespace sc::net {
namespace {

constexpr long kConnectTimeoutSeconds = 3;
constexpr long kRequestTimeoutSeconds = 5;

std::string urlOf(const std::string& address, int port, const std::string& path) {
  bool v6 = address.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + address + "]" : address) + ":" + std::to_string(port) + path;
}

}  // namespace

Result<ProbeReply> CurlProbe::get(const std::string& address, int port, const std::string& host,
                                  const std::string& path) {
  std::unique_ptr<CURLM, CURLMcode (*)(CURLM*)> multi(curl_multi_init(), curl_multi_cleanup);
  std::unique_ptr<CURL, void (*)(CURL*)> easy(curl_easy_init(), curl_easy_cleanup);
  if (!multi || !easy) return fail("libcurl: no handle");
  CURL* c = easy.get();
  const std::string url = urlOf(address, port, path);
  ProbeReply reply;
  BoundedBody received{reply.body, kProbeBodyLimit};
  char errbuf[CURL_ERROR_SIZE] = {0};
  const std::string hostHeader = "Host: " + host;
  curl_slist* headers = curl_slist_append(nullptr, hostHeader.c_str());
  if (!headers) return fail("GET " + url + ": no memory for its headers");
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http");
  curl_easy_setopt(c, CURLOPT_PROXY, "");  // the address is the peer, whatever http_proxy says
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, kConnectTimeoutSeconds);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, kRequestTimeoutSeconds);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "sidecert self-check");
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, appendBounded);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &received);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  auto rc = transferUntilStopped(multi.get(), c, stopFd_, "GET " + url);
  curl_slist_free_all(headers);
  if (!rc) return std::unexpected(rc.error());
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  // A body past the limit is not a key authorization: the status says enough.
  if (*rc != CURLE_OK && !(received.tooLarge && status > 0))
    return fail("GET " + url + ": " + (errbuf[0] ? errbuf : curl_easy_strerror(*rc)));
  reply.status = static_cast<int>(status);
  return reply;
}

}  // namespace sc::net
