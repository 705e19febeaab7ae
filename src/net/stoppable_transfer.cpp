#include "net/stoppable_transfer.h"

#include <optional>

namespace sc::net {
namespace {
constexpr int kPollMillis = 1000;  // libcurl's own timers wake it sooner when they need to
}

Result<CURLcode> transferUntilStopped(CURLM* m, CURL* c, int stopFd, const std::string& what) {
  if (CURLMcode mc = curl_multi_add_handle(m, c); mc != CURLM_OK) return fail(what + ": " + curl_multi_strerror(mc));
  std::optional<CURLcode> done;
  bool stopped = false;
  for (int running = 1; running && !stopped;) {
    if (CURLMcode mc = curl_multi_perform(m, &running); mc != CURLM_OK) {
      curl_multi_remove_handle(m, c);
      return fail(what + ": " + curl_multi_strerror(mc));
    }
    if (!running) break;
    curl_waitfd stop{stopFd, CURL_WAIT_POLLIN, 0};
    curl_multi_poll(m, &stop, stopFd >= 0 ? 1 : 0, kPollMillis, nullptr);
    stopped = (stop.revents & CURL_WAIT_POLLIN) != 0;
  }
  int queued = 0;
  while (CURLMsg* msg = curl_multi_info_read(m, &queued))
    if (msg->msg == CURLMSG_DONE && msg->easy_handle == c) done = msg->data.result;
  curl_multi_remove_handle(m, c);
  if (stopped) return failAs(ErrorKind::Cancelled, what + ": stopped (SIGTERM)");
  return done.value_or(CURLE_ABORTED_BY_CALLBACK);
}

}  // namespace sc::net
