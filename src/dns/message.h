#pragma once
// DNS messages, built and read with ldns: no wire format is written here by hand.
// Answers are hostile input: read within the bytes received, the values a caller
// gets are bounded in count and size, and an answer to another question is refused.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace sc::dns {

using Bytes = std::vector<std::uint8_t>;

enum class RecordType : std::uint16_t { A = 1, Ns = 2, Cname = 5, Soa = 6, Txt = 16, Aaaa = 28 };

struct Question {
  std::string name;  // without the root's dot
  RecordType type = RecordType::Txt;
  bool recursionDesired = true;  // false: asked of a zone's own (authoritative) server
};

// What an answer says about its question.
struct Answer {
  int rcode = 0;             // 0 NOERROR, 3 NXDOMAIN, ...
  bool truncated = false;    // TC: ask again over TCP
  bool authoritative = false;
  // TXT: each record's strings joined (RFC 7208 3.3); NS: the servers' names;
  // A/AAAA: the addresses; SOA: the zone's name (the SOA's owner, answer or
  // authority section). CNAMEs from the question's name are followed within the answer.
  std::vector<std::string> values;
};

// Answers hold at most this many values, each at most this long: more is refused.
inline constexpr std::size_t kMaxValues = 64;
inline constexpr std::size_t kMaxValueBytes = 4096;

// The TSIG algorithms ldns (Debian's 1.8.3) signs and verifies with, as
// tsig-keygen names them; each is tested against BIND 9 in dns01.bats. ldns has
// no hmac-sha224 and knows SHA-384 only as "hmac-shac384." (a misspelling BIND
// does not know), so neither is here.
inline constexpr const char* kTsigAlgorithms[] = {"hmac-sha256", "hmac-sha512", "hmac-sha1", "hmac-md5"};
bool isTsigAlgorithm(const std::string& name);

// A TSIG key (RFC 8945), as BIND's tsig-keygen gives it.
struct TsigKey {
  std::string name;
  std::string algorithm = "hmac-sha256";
  std::string secret;  // base64
};

// A signed message and what its reply must be checked against.
struct Outgoing {
  Bytes wire;
  std::uint16_t id = 0;
  Bytes requestMac;  // TSIG: the request's MAC, which the reply's signature covers
};

Result<Outgoing> buildQuery(const Question& q);
// Reads `wire` as the answer to `q` sent with `id`; an error for what is not one.
Result<Answer> parseAnswer(const std::uint8_t* wire, std::size_t size, std::uint16_t id, const Question& q);

// RFC 2136: in `zone`, add each TXT value at `name` (with `ttl`) or delete it.
struct TxtChange {
  std::string name;
  std::string value;
  bool add = true;
};
Result<Outgoing> buildUpdate(const std::string& zone, const std::vector<TxtChange>& changes, std::uint32_t ttl,
                             const std::optional<TsigKey>& key);
// The server's verdict on an update: OK for NOERROR with a good signature (when
// the request was signed), else an error naming the rcode or the bad signature.
Status parseUpdateReply(const std::uint8_t* wire, std::size_t size, const Outgoing& sent,
                        const std::optional<TsigKey>& key);

std::string rcodeName(int rcode);

}  // namespace sc::dns
