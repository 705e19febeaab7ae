#include "net/alert_channels.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <sstream>

#include <Poco/JSON/Object.h>
#include <Poco/Net/MailMessage.h>
#include <Poco/Net/MailRecipient.h>
#include <Poco/Timestamp.h>

#include "core/time_format.h"
#include "net/bounded_body.h"
#include "net/stoppable_transfer.h"

namespace sc::net {
namespace {

constexpr long kConnectTimeoutSeconds = 10;
constexpr long kTransferTimeoutSeconds = 30;
constexpr std::size_t kMaxReply = 16 * 1024;

// One transfer's handles, freed however it ends.
struct Handles {
  CURLM* multi = curl_multi_init();
  CURL* easy = curl_easy_init();
  curl_slist* list = nullptr;
  ~Handles() {
    curl_slist_free_all(list);
    curl_easy_cleanup(easy);
    curl_multi_cleanup(multi);
  }
};

struct Upload {
  std::string data;
  std::size_t sent = 0;
};

std::size_t readUpload(char* out, std::size_t size, std::size_t n, void* user) {
  auto* u = static_cast<Upload*>(user);
  std::size_t count = std::min(size * n, u->data.size() - u->sent);
  std::memcpy(out, u->data.data() + u->sent, count);
  u->sent += count;
  return count;
}

void commonOptions(CURL* c, const AlertSettings& s, char* errbuf) {
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, kConnectTimeoutSeconds);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, kTransferTimeoutSeconds);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  if (!s.caBundle.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, s.caBundle.c_str());
}

Status finish(Result<CURLcode> rc, const char* errbuf, const std::string& what) {
  if (!rc) return std::unexpected(rc.error());
  if (*rc != CURLE_OK) return fail(what + ": " + (errbuf[0] ? errbuf : curl_easy_strerror(*rc)));
  return {};
}

std::string oneLine(std::string s) {
  std::replace_if(s.begin(), s.end(), [](unsigned char c) { return c < ' ' || c == 0x7f; }, ' ');
  return s;
}

class MailChannel final : public alert::Channel {
 public:
  MailChannel(AlertSettings s, int stopFd) : s_(std::move(s)), stopFd_(stopFd) {}
  std::string name() const override { return "mail"; }

  Status send(const alert::Message& message) override {
    Handles h;
    if (!h.multi || !h.easy) return fail("mail: libcurl gave no handle");
    char errbuf[CURL_ERROR_SIZE] = {0};
    std::string url = s_.smtpUrl;
    if (s_.smtpTls == AlertSettings::SmtpTls::Implicit && url.rfind("smtp://", 0) == 0)
      url = "smtps://" + url.substr(7);
    Upload upload{mailText(message, s_.from, s_.to)};
    std::string from = "<" + s_.from + ">";
    for (const auto& to : s_.to) h.list = curl_slist_append(h.list, ("<" + to + ">").c_str());
    CURL* c = h.easy;
    commonOptions(c, s_, errbuf);
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(c, CURLOPT_USE_SSL,
                     s_.smtpTls == AlertSettings::SmtpTls::None ? (long)CURLUSESSL_NONE : (long)CURLUSESSL_ALL);
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, from.c_str());
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, h.list);
    if (!s_.smtpUser.empty()) {
      curl_easy_setopt(c, CURLOPT_USERNAME, s_.smtpUser.c_str());
      curl_easy_setopt(c, CURLOPT_PASSWORD, s_.smtpPassword.c_str());
    }
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, readUpload);
    curl_easy_setopt(c, CURLOPT_READDATA, &upload);
    std::string where = "mail through " + hostOf(url);
    auto sent = finish(transferUntilStopped(h.multi, c, stopFd_, where), errbuf, where);
    long reply = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply);
    if (!sent && !sent.error().is(ErrorKind::Cancelled) && reply >= 400)
      return fail(sent.error().message + " (the relay's last answer: " + std::to_string(reply) + ")");
    return sent;
  }

 private:
  static std::string hostOf(const std::string& url) {
    auto start = url.find("://") + 3;
    auto at = url.find('@', start);
    if (at != std::string::npos) start = at + 1;
    return url.substr(start);
  }
  AlertSettings s_;
  int stopFd_;
};

class WebhookChannel final : public alert::Channel {
 public:
  WebhookChannel(AlertSettings s, int stopFd) : s_(std::move(s)), stopFd_(stopFd) {}
  std::string name() const override { return "webhook"; }

  Status send(const alert::Message& message) override {
    Handles h;
    if (!h.multi || !h.easy) return fail("webhook: libcurl gave no handle");
    char errbuf[CURL_ERROR_SIZE] = {0};
    bool ntfy = s_.webhookFormat == AlertSettings::WebhookFormat::Ntfy;
    std::string body = ntfy ? message.text() : webhookJson(message);
    h.list = curl_slist_append(h.list, ntfy ? "Content-Type: text/plain; charset=utf-8" : "Content-Type: application/json");
    if (ntfy) {
      h.list = curl_slist_append(h.list, ("Title: " + oneLine(message.subject())).c_str());
      h.list = curl_slist_append(h.list, ("Priority: " + std::string(priorityOf(message))).c_str());
      h.list = curl_slist_append(h.list, ("Tags: sidecert," + oneLine(message.severity)).c_str());
    }
    std::string reply;
    BoundedBody received{reply, kMaxReply};
    CURL* c = h.easy;
    commonOptions(c, s_, errbuf);
    curl_easy_setopt(c, CURLOPT_URL, s_.webhook.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "sidecert");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h.list);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, appendBounded);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &received);
    // the URL may hold a token: the error names only that it was the webhook
    auto rc = transferUntilStopped(h.multi, c, stopFd_, "webhook");
    if (rc && *rc == CURLE_WRITE_ERROR && received.tooLarge) rc = CURLE_OK;  // the status is what counts
    if (auto ok = finish(rc, errbuf, "webhook"); !ok) return ok;
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status > 299)
      return fail("webhook: the receiver answered HTTP " + std::to_string(status) + ": " +
                  oneLine(reply.substr(0, 200)));
    return {};
  }

 private:
  static const char* priorityOf(const alert::Message& m) {
    if (m.kind == alert::NoticeKind::Clear || m.kind == alert::NoticeKind::Test) return "default";
    return m.severity == "critical" ? "urgent" : "high";
  }
  AlertSettings s_;
  int stopFd_;
};

}  // namespace

std::string mailText(const alert::Message& message, const std::string& from, const std::vector<std::string>& to) {
  Poco::Net::MailMessage mail;
  mail.setSender(from);
  for (const auto& r : to) mail.addRecipient(Poco::Net::MailRecipient(Poco::Net::MailRecipient::PRIMARY_RECIPIENT, r));
  mail.setSubject(Poco::Net::MailMessage::encodeWord(message.subject()));
  mail.setDate(Poco::Timestamp::fromEpochTime(toUnixSeconds(message.at)));
  // unique per message: the time in ms and the notice; the host after the @
  std::random_device random;
  mail.set("Message-ID", "<" + std::to_string(toUnixSeconds(message.at)) + "." + std::to_string(random()) +
                             std::to_string(random()) + "@" + from.substr(from.rfind('@') + 1) + ">");
  mail.set("X-Sidecert-Condition", message.condition.empty() ? "test" : message.condition);
  mail.set("X-Sidecert-Notice", alert::noticeKindName(message.kind));
  mail.setContentType("text/plain; charset=utf-8");
  mail.setContent(message.text(), Poco::Net::MailMessage::ENCODING_QUOTED_PRINTABLE);
  std::ostringstream out;
  mail.write(out);
  return out.str();
}

std::string webhookJson(const alert::Message& m) {
  Poco::JSON::Object o(Poco::JSON_PRESERVE_KEY_ORDER);
  std::string text = m.subject() + "\n" + m.text();
  o.set("text", text);
  o.set("content", text.substr(0, 2000));  // Discord's limit
  o.set("event", alert::noticeKindName(m.kind));
  o.set("lineage", m.lineage);
  o.set("condition", m.condition);
  o.set("severity", m.severity);
  o.set("summary", m.summary);
  o.set("since", formatTime(m.since));
  o.set("at", formatTime(m.at));
  o.set("last_error", m.lastError);
  o.set("advice", m.advice);
  o.set("host", m.host);
  std::ostringstream out;
  o.stringify(out);
  return out.str();
}

Result<std::unique_ptr<alert::Channel>> mailChannel(const AlertSettings& settings, int stopFd) {
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return fail("libcurl could not be initialised");
  auto* info = curl_version_info(CURLVERSION_NOW);
  bool smtp = false;
  for (auto p = info->protocols; p && *p; ++p) smtp = smtp || std::strcmp(*p, "smtp") == 0;
  if (!smtp) return fail("SIDECERT_SMTP_URL: this libcurl was built without SMTP");
  return std::unique_ptr<alert::Channel>(new MailChannel(settings, stopFd));
}

Result<std::unique_ptr<alert::Channel>> webhookChannel(const AlertSettings& settings, int stopFd) {
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return fail("libcurl could not be initialised");
  return std::unique_ptr<alert::Channel>(new WebhookChannel(settings, stopFd));
}

}  // namespace sc::net
