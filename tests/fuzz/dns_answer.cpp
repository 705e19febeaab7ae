// DNS replies as a hostile server or a spoofer would send them: no crash, no
// exception, and what comes out obeys the bounds dns/message promises. The first
// two bytes are the id the reply must carry, the third picks the question.
#include <cstdint>
#include <string>

#include "dns/message.h"
#include "fuzz_check.h"

using namespace sc::dns;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  std::uint16_t id = static_cast<std::uint16_t>(data[0] << 8 | data[1]);
  static const Question questions[] = {{"_validation-persist.example.test", RecordType::Txt, true},
                                       {"_acme-challenge.example.test", RecordType::Soa, true},
                                       {"example.test", RecordType::Ns, false},
                                       {"ns.example.test", RecordType::A, true}};
  const Question& q = questions[data[2] % 4];
  auto a = parseAnswer(data + 3, size - 3, id, q);
  if (a) {
    FUZZ_CHECK(a->values.size() <= kMaxValues);
    for (const auto& v : a->values) FUZZ_CHECK(v.size() <= kMaxValueBytes);
    FUZZ_CHECK(!a->truncated || a->values.empty());
  }
  static const TsigKey key{"sidecert-key", "hmac-sha256", "c2VjcmV0IG9mIDMyIGJ5dGVzIGZvciBobWFjLXNoYTI1Ng=="};
  Outgoing sent;
  sent.id = id;
  sent.requestMac = std::vector<std::uint8_t>(34, 0x5a);
  bool signedRequest = data[2] & 4;
  auto verdict = parseUpdateReply(data + 3, size - 3, sent, signedRequest ? std::optional<TsigKey>(key) : std::nullopt);
  // a signed update's success needs the key's HMAC over the request's MAC: no
  // input can forge it, so a reply taken as done is a finding
  FUZZ_CHECK(!(verdict && signedRequest));
  return 0;
}
