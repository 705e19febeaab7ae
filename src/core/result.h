#pragma once
// Every fallible operation returns Result<T>: a value, or an Error whose message
// names the action, the resource and the cause ("rename live/gw: No space left").
#include <cerrno>
#include <chrono>
#include <cstring>
#include <expected>
#include <string>

#include "core/problem_type.h"

namespace sc {

// What kind of failure, where the caller's next step depends on it.
enum class ErrorKind {
  General,
  Cancelled,  // SIGTERM arrived: stop, count nothing as failed
  Protocol,   // a reply that is not what RFC 8555 allows: the CA is broken or hostile
  Problem,    // the CA refused, with an RFC 8555 problem document (see Error::problem)
  Unusable,   // what a source obtained fails the checks every set passes
  Deferred,   // not now: the order budget or a backoff forbids it (no failure)
  Rejected,   // the CA ended the order for good (a failed validation, an invalid order)
  Conflict,   // someone changed it first (a swarm service's version moved on): read again
  NotFound,   // no such object
  NotReady,   // a person must act first (create a DNS record): nothing was asked of the CA
};

struct Error {
  std::string message;
  int code = 0;  // errno where one applies, so callers can tell ENOSPC from EROFS
  // A server that said when to come back (Retry-After): not before this long.
  std::chrono::seconds retryAfter{0};
  ErrorKind kind = ErrorKind::General;
  // ErrorKind::Problem: the ACME problem type, as acme/wire.cpp parsed it (Other for
  // one sidecert does not tell apart; the message quotes it).
  ProblemType problem = ProblemType::Other;

  bool is(ErrorKind k) const { return kind == k; }
  bool isProblem(ProblemType type) const { return kind == ErrorKind::Problem && problem == type; }
};

// A value, or the Error that kept it from being made. [[nodiscard]], which
// libstdc++ 12's std::expected is not: a result dropped unread does not compile
// (-Werror=unused-result), as OpenBSD holds by review. Where dropping one is
// right, the caller writes (void) and says why.
template <class T>
class [[nodiscard]] Result : public std::expected<T, Error> {
  using Base = std::expected<T, Error>;

 public:
  using Base::Base;
  using Base::operator=;
  Result() = default;
  Result(const Base& e) : Base(e) {}
  Result(Base&& e) : Base(std::move(e)) {}
};

// Success, or the Error that prevented it.
class [[nodiscard]] Status : public std::expected<void, Error> {
  using Base = std::expected<void, Error>;

 public:
  using Base::Base;
  using Base::operator=;
  Status() = default;
  Status(const Base& e) : Base(e) {}
  Status(Base&& e) : Base(std::move(e)) {}
};

inline std::unexpected<Error> fail(std::string message, int code = 0) {
  Error e;
  e.message = std::move(message);
  e.code = code;
  return std::unexpected(std::move(e));
}

inline std::unexpected<Error> failAs(ErrorKind kind, std::string message) {
  Error e;
  e.message = std::move(message);
  e.kind = kind;
  return std::unexpected(std::move(e));
}

// "ACTION WHAT: strerror(errno)", capturing errno at the call.
inline std::unexpected<Error> failErrno(const std::string& action, const std::string& what) {
  int e = errno;
  return fail(action + " " + what + ": " + std::strerror(e), e);
}

// Prefix an error with context as it travels up: "publish set: " + inner.
inline std::unexpected<Error> wrap(const std::string& context, const Error& inner) {
  Error e = inner;
  e.message = context + ": " + inner.message;
  return std::unexpected(std::move(e));
}

}  // namespace sc
