#include "net/curl_transport.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>

#include "net/bounded_body.h"
#include "net/stoppable_transfer.h"

namespace sc::net {

std::string curlDescription() {
  const curl_version_info_data* info = curl_version_info(CURLVERSION_NOW);
  std::string out = std::string("libcurl ") + info->version + " (";
  for (const char* const* p = info->protocols; p && *p; ++p) {
    std::string protocol = *p;
    for (auto& c : protocol) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    out += (p == info->protocols ? "" : " ") + protocol;
  }
  return out + ")";
}
namespace {

constexpr long kConnectTimeoutSeconds = 10;
constexpr long kRequestTimeoutSeconds = 30;
constexpr std::size_t kMaxBody = 1 << 20;  // a certificate chain is a few KiB

size_t onHeader(char* data, size_t size, size_t n, void* user) {
  auto* response = static_cast<acme::HttpResponse*>(user);
  std::string line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) response->headers.clear();  // a new response (after 100 Continue)
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    value.erase(value.find_last_not_of(" \t\r\n") + 1);
    response->headers[name].push_back(value);
  }
  return size * n;
}

}  // namespace

Result<std::unique_ptr<CurlTransport>> CurlTransport::create(const CurlOptions& options) {
  static const bool initialised = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  if (!initialised) return fail("libcurl could not be initialised");
  CURLM* m = curl_multi_init();
  if (!m) return fail("libcurl: no multi handle");
  CURL* c = curl_easy_init();
  if (!c) {
    curl_multi_cleanup(m);
    return fail("libcurl: no handle");
  }
  return std::unique_ptr<CurlTransport>(new CurlTransport(m, c, options));
}

CurlTransport::~CurlTransport() {
  curl_easy_cleanup(static_cast<CURL*>(curl_));
  curl_multi_cleanup(static_cast<CURLM*>(multi_));
}

Result<int> CurlTransport::transfer(const std::string& what) {
  auto rc = transferUntilStopped(static_cast<CURLM*>(multi_), static_cast<CURL*>(curl_), options_.stopFd, what);
  if (!rc) return std::unexpected(rc.error());
  return static_cast<int>(*rc);
}

Result<acme::HttpResponse> CurlTransport::perform(const std::string& method, const std::string& url,
                                                  const std::string* body, const std::string& accept) {
  long timeoutMs = kRequestTimeoutSeconds * 1000;
  if (deadline_) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline_ - std::chrono::steady_clock::now());
    if (left.count() <= 0) return fail(method + " " + url + ": not sent, no time left for it");
    timeoutMs = std::min<long>(timeoutMs, static_cast<long>(left.count()));
  }
  CURL* c = static_cast<CURL*>(curl_);
  curl_easy_reset(c);  // keeps the connection cache: the next request reuses the connection
  acme::HttpResponse response;
  BoundedBody received{response.body, kMaxBody};
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, std::min<long>(kConnectTimeoutSeconds * 1000, timeoutMs));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeoutMs);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_USERAGENT, options_.userAgent.c_str());
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, appendBounded);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &received);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, onHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &response);
  if (!options_.caBundle.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options_.caBundle.c_str());
  curl_slist* headers = nullptr;
  if (!accept.empty()) headers = curl_slist_append(headers, ("Accept: " + accept).c_str());
  if (method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (method == "POST") {
    headers = curl_slist_append(headers, "Content-Type: application/jose+json");
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body->data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body->size()));
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  auto outcome = transfer(method + " " + url);
  curl_slist_free_all(headers);
  if (!outcome) return std::unexpected(outcome.error());
  auto rc = static_cast<CURLcode>(*outcome);
  if (received.tooLarge) return failAs(ErrorKind::Protocol, method + " " + url + ": the reply is larger than 1 MiB");
  if (rc != CURLE_OK)
    return fail(method + " " + url + ": " + (errbuf[0] ? errbuf : curl_easy_strerror(rc)), static_cast<int>(rc));
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);
  return response;
}

Result<acme::HttpResponse> CurlTransport::get(const std::string& url) { return perform("GET", url, nullptr, ""); }
Result<acme::HttpResponse> CurlTransport::head(const std::string& url) { return perform("HEAD", url, nullptr, ""); }
Result<acme::HttpResponse> CurlTransport::post(const std::string& url, const std::string& body,
                                               const std::string& accept) {
  return perform("POST", url, &body, accept);
}


}  // namespace sc::net
