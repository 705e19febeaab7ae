#pragma once
// The alert channels over libcurl: mail through an SMTP relay and a webhook POST.
// Neither logs nor repeats its secrets (the password, a webhook URL's token).
#include <memory>

#include "alert/message.h"
#include "config/settings.h"

namespace sc::net {

// stopFd: readable when the process must stop (-1: none); a delivery under way ends.
Result<std::unique_ptr<alert::Channel>> mailChannel(const AlertSettings& settings, int stopFd);
Result<std::unique_ptr<alert::Channel>> webhookChannel(const AlertSettings& settings, int stopFd);

// The message as mail: RFC 5322 headers and a quoted-printable text body.
std::string mailText(const alert::Message& message, const std::string& from, const std::vector<std::string>& to);
// The webhook's JSON body: `text` (Slack, Mattermost, Rocket.Chat, Google Chat,
// Teams) and `content` (Discord) for people, the fields for machines.
std::string webhookJson(const alert::Message& message);

}  // namespace sc::net
