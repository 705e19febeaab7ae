#include "net/docker_events.h"

#include <curl/curl.h>

#include <memory>

#include "net/stoppable_transfer.h"

namespace sc::net {
namespace {

constexpr const char* kApiVersion = "/v1.41";  // as net/docker_socket.cpp

struct LineSplitter {
  CURL* easy;
  const std::function<void()>& onConnected;
  const std::function<void(const std::string&)>& onLine;
  std::string partial;
  bool connected = false;
  bool lineTooLong = false;
  long status = 0;
};

// The end of the headers: the engine answered, before any event comes (it sends
// none while nothing happens).
std::size_t takeHeader(char* data, std::size_t size, std::size_t n, void* user) {
  auto* s = static_cast<LineSplitter*>(user);
  std::string line(data, size * n);
  if (line == "\r\n" || line == "\n") {
    curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &s->status);
    if (s->status == 200 && !s->connected) {
      s->connected = true;
      s->onConnected();
    }
  }
  return size * n;
}

std::size_t takeBytes(char* data, std::size_t size, std::size_t n, void* user) {
  auto* s = static_cast<LineSplitter*>(user);
  if (!s->connected) return 0;  // an error's body is not an event
  for (std::size_t i = 0; i < size * n; ++i) {
    char c = data[i];
    if (c != '\n') {
      if (s->partial.size() >= DockerEvents::kMaxLine) {
        s->lineTooLong = true;
        return 0;
      }
      s->partial.push_back(c);
      continue;
    }
    if (!s->partial.empty() && s->partial.back() == '\r') s->partial.pop_back();
    if (!s->partial.empty()) s->onLine(s->partial);
    s->partial.clear();
  }
  return size * n;
}

}  // namespace

Result<StreamEnd> DockerEvents::follow(const std::string& path, std::chrono::seconds limit,
                                       const std::function<void()>& onConnected,
                                       const std::function<void(const std::string&)>& onLine) {
  std::unique_ptr<CURLM, CURLMcode (*)(CURLM*)> m(curl_multi_init(), curl_multi_cleanup);
  std::unique_ptr<CURL, void (*)(CURL*)> c(curl_easy_init(), curl_easy_cleanup);
  if (!m || !c) return fail("libcurl: no handle");
  char errbuf[CURL_ERROR_SIZE] = {0};
  std::string url = std::string("http://docker") + kApiVersion + path;
  LineSplitter splitter{c.get(), onConnected, onLine};
  curl_easy_setopt(c.get(), CURLOPT_UNIX_SOCKET_PATH, socket_.c_str());
  curl_easy_setopt(c.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(c.get(), CURLOPT_TIMEOUT, static_cast<long>(limit.count()));
  curl_easy_setopt(c.get(), CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(c.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c.get(), CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c.get(), CURLOPT_WRITEFUNCTION, takeBytes);
  curl_easy_setopt(c.get(), CURLOPT_WRITEDATA, &splitter);
  curl_easy_setopt(c.get(), CURLOPT_HEADERFUNCTION, takeHeader);
  curl_easy_setopt(c.get(), CURLOPT_HEADERDATA, &splitter);
  auto outcome = transferUntilStopped(m.get(), c.get(), stopFd_, "Docker engine: GET " + path);
  if (!outcome) return std::unexpected(outcome.error());
  if (splitter.lineTooLong)
    return fail("the Docker engine sent an event longer than " + std::to_string(kMaxLine / 1024) + " KiB on " + path);
  if (!splitter.connected) {
    if (splitter.status == 0) curl_easy_getinfo(c.get(), CURLINFO_RESPONSE_CODE, &splitter.status);
    if (splitter.status != 0 && splitter.status != 200)
      return fail("the Docker engine answered GET " + path + " with HTTP " + std::to_string(splitter.status));
  }
  if (*outcome == CURLE_OPERATION_TIMEDOUT && splitter.connected) return StreamEnd::TimeLimit;
  if (*outcome != CURLE_OK)
    return fail("the Docker engine at " + socket_ + " did not keep GET " + path + " open: " +
                (errbuf[0] ? errbuf : curl_easy_strerror(*outcome)) + " (is the socket mounted?)");
  return StreamEnd::Closed;
}

}  // namespace sc::net
