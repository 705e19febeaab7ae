#pragma once
// A libcurl transfer that ends at once when the process must stop: run on a multi
// handle whose poll also watches the stop fd (curl_multi_poll), instead of
// curl_easy_perform, which only a timeout ends.
#include <curl/curl.h>

#include <string>

#include "core/result.h"

namespace sc::net {

// The transfer's CURLcode, or ErrorKind::Cancelled once `stopFd` (-1: none) is readable.
Result<CURLcode> transferUntilStopped(CURLM* multi, CURL* easy, int stopFd, const std::string& what);

}  // namespace sc::net
