#pragma once
// A notice in words: a subject and a text for people, the same fields for machines.
#include <string>

#include "alert/schedule.h"
#include "core/result.h"

namespace sc::alert {

struct Message {
  NoticeKind kind = NoticeKind::Test;
  std::string lineage;
  std::string condition;  // empty for a test
  std::string severity;
  std::string summary;
  std::string lastError;
  std::string advice;
  TimePoint since{};
  TimePoint at{};
  std::string host;
  std::string subject() const;
  std::string text() const;
};

Message messageFor(const Notice& notice, const std::string& host, TimePoint now);
Message testMessage(const std::string& host, TimePoint now);

// Where a message goes: mail, a webhook. Sending blocks until it is delivered or
// has failed; a transfer ends at once when the process must stop.
class Channel {
 public:
  virtual ~Channel() = default;
  virtual std::string name() const = 0;  // "mail", "webhook"
  virtual Status send(const Message& message) = 0;
};

}  // namespace sc::alert
