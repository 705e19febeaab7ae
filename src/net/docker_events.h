#pragma once
// The Docker Engine's /events stream over its unix socket: a GET that stays open
// and sends one JSON object per line while things happen. Each complete line is
// handed over as is (the caller checks it: the engine's answers are hostile).
#include <chrono>
#include <functional>
#include <string>

#include "core/result.h"

namespace sc::net {

// How the stream ended when it ended without an error: the engine closed it, or
// the longest time the caller gave it ran out.
enum class StreamEnd { Closed, TimeLimit };

class DockerEvents {
 public:
  // stopFd: readable when the process must stop (the follow then ends with
  // ErrorKind::Cancelled); -1: none.
  DockerEvents(std::string socketPath, int stopFd) : socket_(std::move(socketPath)), stopFd_(stopFd) {}
  // Follows `path` (such as "/events?filters=...") for at most `limit`; `onConnected`
  // once the engine answered 200; `onLine` for each line (without its newline). A line
  // longer than kMaxLine, or an answer other than 200, ends the follow with an error.
  Result<StreamEnd> follow(const std::string& path, std::chrono::seconds limit, const std::function<void()>& onConnected,
                           const std::function<void(const std::string&)>& onLine);

  static constexpr std::size_t kMaxLine = 64 * 1024;

 private:
  std::string socket_;
  int stopFd_;
};

}  // namespace sc::net
