#pragma once
// Every fallible operation returns Result<T>: a value, or an Error whose message
// names the action, the resource and the cause ("rename live/gw: No space left").
#include <cerrno>
#include <chrono>
#include <cstring>
#include <expected>
#include <string>

namespace sc {

struct Error {
  std::string message;
  int code = 0;  // errno where one applies, so callers can tell ENOSPC from EROFS
  // A server that said when to come back (Retry-After): not before this long.
  std::chrono::seconds retryAfter{0};
};

template <class T>
using Result = std::expected<T, Error>;
using Status = std::expected<void, Error>;

inline std::unexpected<Error> fail(std::string message, int code = 0) {
  return std::unexpected(Error{std::move(message), code});
}

// "ACTION WHAT: strerror(errno)", capturing errno at the call.
inline std::unexpected<Error> failErrno(const std::string& action, const std::string& what) {
  int e = errno;
  return fail(action + " " + what + ": " + std::strerror(e), e);
}

// Prefix an error with context as it travels up: "publish set: " + inner.
inline std::unexpected<Error> wrap(const std::string& context, const Error& inner) {
  return std::unexpected(Error{context + ": " + inner.message, inner.code, inner.retryAfter});
}

}  // namespace sc
