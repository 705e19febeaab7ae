// A set of files as found in the shared volume, or as a CA sent them: the key,
// the leaf and the chain, split on "\n--8<--\n". Parsing and judging never crash,
// and a set judged usable really is: its key matches and it links.
#include <cstdint>
#include <string>

#include "crypto/cert.h"
#include "fuzz_check.h"
#include "sources/cert_set.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  const std::string cut = "\n--8<--\n";
  sc::store::CertFiles files;
  std::string* parts[] = {&files.privkey, &files.cert, &files.chain};
  std::size_t at = 0;
  for (auto* part : parts) {
    auto end = input.find(cut, at);
    *part = input.substr(at, end == std::string::npos ? std::string::npos : end - at);
    if (end == std::string::npos) break;
    at = end + cut.size();
  }
  files.fullchain = files.cert + files.chain;
  (void)sc::crypto::Certificate::parseAll(input);
  auto set = sc::sources::parseFiles(files);
  if (!set) return 0;
  auto now = sc::TimePoint(std::chrono::seconds(1'800'000'000));
  auto reason = sc::sources::unusableReason(*set, {"example.test"}, now);
  if (!reason.empty()) return 0;
  FUZZ_CHECK(set->leaf.matches(set->key));
  FUZZ_CHECK(set->leaf.covers("example.test"));
  FUZZ_CHECK(set->chain.empty() || set->leaf.issuedBy(set->chain.front()) || set->leaf.isSelfIssued());
  return 0;
}
