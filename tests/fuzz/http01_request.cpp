// The HTTP-01 responder's answer to any request head a client can send: always a
// well-formed HTTP reply, the key authorization only for the exact path of a
// published token, and nothing else ever echoed back.
#include <cstdint>
#include <string>

#include "fuzz_check.h"
#include "http01/responder.h"
#include "log/log.h"

namespace {
const std::string kToken = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA";
const std::string kKeyAuth = kToken + ".9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI";
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = (sc::log::captureForTests([](const std::string&) {}), true);
  (void)quiet;
  sc::http01::TokenStore tokens;
  tokens.publish(kToken, kKeyAuth);
  std::string head(reinterpret_cast<const char*>(data), size);
  std::string reply = sc::http01::replyTo(head, tokens, 256, "fuzz");
  FUZZ_CHECK(reply.rfind("HTTP/1.", 0) == 0);
  FUZZ_CHECK(reply.find("\r\n\r\n") != std::string::npos);
  bool served = reply.find(kKeyAuth) != std::string::npos;
  FUZZ_CHECK(!served || head.find("/.well-known/acme-challenge/" + kToken) != std::string::npos);
  FUZZ_CHECK(reply.size() < 1024);  // no reflection of the request
  return 0;
}
