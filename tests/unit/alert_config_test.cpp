// The alert and metrics settings: defaults, what each accepts, and errors that
// name the key.
#include <gtest/gtest.h>

#include "config/load.h"
#include "test_support.h"

using sc::AlertSettings;
using sc::Environment;

namespace {

sc::Result<sc::Settings> fromEnv(Environment env) {
  env.emplace("SIDECERT_DOMAINS", "gw.example.test");
  return sc::loadSettings(std::nullopt, env, "h");
}

std::string errorOf(Environment env) {
  auto r = fromEnv(std::move(env));
  return r ? "" : r.error().message;
}

bool startsWith(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

}  // namespace

TEST(AlertConfig, OffByDefault) {
  auto s = fromEnv({});
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->alerts.any());
  EXPECT_FALSE(s->metricsListen.has_value());
  EXPECT_EQ(s->alerts.after, std::chrono::hours(1));
  EXPECT_EQ(s->alerts.remind, std::chrono::hours(24));
  EXPECT_FALSE(s->alerts.expiryWithin.has_value());
  EXPECT_EQ(s->alerts.from, "sidecert@gw.example.test");
}

TEST(AlertConfig, MailGoesToTheAccountContactUnlessToldOtherwise) {
  auto s = fromEnv({{"SIDECERT_SMTP_URL", "smtp://relay.example.test:587"}, {"SIDECERT_EMAIL", "ops@example.test"}});
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->alerts.to, std::vector<std::string>{"ops@example.test"});
  EXPECT_EQ(s->alerts.smtpTls, AlertSettings::SmtpTls::StartTls);
  auto aiotes = sc::loadSettings(std::nullopt,
                                 {{"AIOTES_HOSTNAME", "gw.example.test"},
                                  {"AIOTES_SYSADMIN_EMAIL", "admin@example.test"},
                                  {"SIDECERT_SMTP_URL", "smtps://relay.example.test"}},
                                 "h");
  ASSERT_TRUE(aiotes) << aiotes.error().message;
  EXPECT_EQ(aiotes->alerts.to, std::vector<std::string>{"admin@example.test"});
  EXPECT_EQ(aiotes->alerts.smtpTls, AlertSettings::SmtpTls::Implicit);
  auto listed = fromEnv({{"SIDECERT_SMTP_URL", "smtp://relay.example.test"},
                         {"SIDECERT_EMAIL", "ops@example.test"},
                         {"SIDECERT_ALERT_EMAIL", "a@example.test, b@example.test"},
                         {"SIDECERT_ALERT_FROM", "certs@example.test"},
                         {"SIDECERT_SMTP_TLS", "none"}});
  ASSERT_TRUE(listed) << listed.error().message;
  EXPECT_EQ(listed->alerts.to, (std::vector<std::string>{"a@example.test", "b@example.test"}));
  EXPECT_EQ(listed->alerts.from, "certs@example.test");
  EXPECT_EQ(listed->alerts.smtpTls, AlertSettings::SmtpTls::None);
}

TEST(AlertConfig, BadSettingsNameTheKey) {
  const std::pair<Environment, std::string> cases[] = {
      {{{"SIDECERT_SMTP_URL", "http://relay.example.test"}}, "SIDECERT_SMTP_URL: "},
      {{{"SIDECERT_SMTP_URL", "smtp://relay.example.test/path"}}, "SIDECERT_SMTP_URL: "},
      {{{"SIDECERT_SMTP_URL", "smtp://"}}, "SIDECERT_SMTP_URL: "},
      {{{"SIDECERT_SMTP_URL", "smtp://relay.example.test"}, {"SIDECERT_EMAIL", "o@example.test"},
        {"SIDECERT_SMTP_TLS", "ssl"}},
       "SIDECERT_SMTP_TLS: 'ssl' is not a TLS mode"},
      {{{"SIDECERT_SMTP_URL", "smtps://relay.example.test"}, {"SIDECERT_EMAIL", "o@example.test"},
        {"SIDECERT_SMTP_TLS", "starttls"}},
       "SIDECERT_SMTP_TLS: smtps:// is TLS"},
      {{{"SIDECERT_SMTP_URL", "smtp://relay.example.test"}}, "SIDECERT_SMTP_URL: mail has no recipient"},
      {{{"SIDECERT_SMTP_URL", "smtp://relay.example.test"}, {"SIDECERT_EMAIL", "o@example.test"},
        {"SIDECERT_SMTP_USER", "u"}},
       "SIDECERT_SMTP_USER: SMTP authentication needs both"},
      {{{"SIDECERT_ALERT_WEBHOOK", "ftp://hooks.example.test/x"}}, "SIDECERT_ALERT_WEBHOOK: "},
      {{{"SIDECERT_ALERT_WEBHOOK", "https://hooks.example.test/a b"}}, "SIDECERT_ALERT_WEBHOOK: "},
      {{{"SIDECERT_ALERT_WEBHOOK_FORMAT", "slack"}}, "SIDECERT_ALERT_WEBHOOK_FORMAT: 'slack' is not"},
      {{{"SIDECERT_ALERT_EMAIL", "not-an-address"}}, "SIDECERT_ALERT_EMAIL: "},
      {{{"SIDECERT_ALERT_FROM", "a@b@c"}}, "SIDECERT_ALERT_FROM: "},
      {{{"SIDECERT_ALERT_AFTER", "soon"}}, "SIDECERT_ALERT_AFTER: "},
      {{{"SIDECERT_ALERT_REMIND", "0s"}}, "SIDECERT_ALERT_REMIND: must be longer than 0s"},
      {{{"SIDECERT_ALERT_CA_BUNDLE", "/nonexistent/ca.pem"}}, "SIDECERT_ALERT_CA_BUNDLE: cannot read"},
      {{{"SIDECERT_METRICS_LISTEN", "9464"}}, "SIDECERT_METRICS_LISTEN: "},
      {{{"SIDECERT_METRICS_LISTEN", ":99999"}}, "SIDECERT_METRICS_LISTEN: "},
      {{{"SIDECERT_SMTP_PASSWORD_FILE", "/nonexistent/pw"}}, "SIDECERT_SMTP_PASSWORD_FILE: cannot read"},
  };
  for (const auto& [env, prefix] : cases) {
    std::string e = errorOf(env);
    EXPECT_TRUE(startsWith(e, prefix)) << "expected '" << prefix << "', got '" << e << "'";
  }
}

TEST(AlertConfig, SecretsComeFromFilesAndAreNeverInAnError) {
  TempDir dir;
  std::string pw = dir.write("pw", "s3cret-pass\n");
  std::string hook = dir.write("hook", "https://hooks.example.test/T0KEN\n");
  auto s = fromEnv({{"SIDECERT_SMTP_URL", "smtp://relay.example.test"},
                    {"SIDECERT_EMAIL", "o@example.test"},
                    {"SIDECERT_SMTP_USER", "u"},
                    {"SIDECERT_SMTP_PASSWORD_FILE", pw},
                    {"SIDECERT_ALERT_WEBHOOK_FILE", hook}});
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->alerts.smtpPassword, "s3cret-pass");
  EXPECT_EQ(s->alerts.webhook, "https://hooks.example.test/T0KEN");
  std::string both = errorOf({{"SIDECERT_ALERT_WEBHOOK", "https://a.example.test/x"}, {"SIDECERT_ALERT_WEBHOOK_FILE", hook}});
  EXPECT_TRUE(startsWith(both, "SIDECERT_ALERT_WEBHOOK_FILE: given beside SIDECERT_ALERT_WEBHOOK")) << both;
  std::string badHook = errorOf({{"SIDECERT_ALERT_WEBHOOK_FILE", dir.write("bad", "gopher://x/SECRET-TOKEN\n")}});
  EXPECT_TRUE(startsWith(badHook, "SIDECERT_ALERT_WEBHOOK_FILE: ")) << badHook;
  EXPECT_EQ(badHook.find("SECRET-TOKEN"), std::string::npos) << badHook;
  EXPECT_TRUE(startsWith(errorOf({{"SIDECERT_SMTP_PASSWORD_FILE", dir.write("empty", "\n")}}),
                         "SIDECERT_SMTP_PASSWORD_FILE: "));
}

TEST(AlertConfig, YamlKeysAndTheirLines) {
  TempDir dir;
  auto s = sc::loadSettings(dir.write("c.yml",
                                      "domains: gw.example.test\n"
                                      "email: o@example.test\n"
                                      "smtp_url: smtp://relay.example.test:2525\n"
                                      "smtp_tls: none\n"
                                      "alert_webhook: http://127.0.0.1:9/hook\n"
                                      "alert_webhook_format: ntfy\n"
                                      "alert_after: 10m\n"
                                      "alert_expiry_within: 5d\n"
                                      "alert_remind: 12h\n"
                                      "metrics_listen: 127.0.0.1:9464\n"),
                            {}, "h");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->alerts.webhookFormat, AlertSettings::WebhookFormat::Ntfy);
  EXPECT_EQ(s->alerts.after, std::chrono::minutes(10));
  EXPECT_EQ(s->alerts.expiryWithin, std::chrono::hours(24 * 5));
  EXPECT_EQ(s->alerts.remind, std::chrono::hours(12));
  ASSERT_TRUE(s->metricsListen);
  EXPECT_EQ(s->metricsListen->describe(), "127.0.0.1:9464");
  auto bad = sc::loadSettings(dir.write("d.yml", "domains: gw.example.test\nsmtp_tls: sometimes\n"), {}, "h");
  ASSERT_FALSE(bad);
  EXPECT_TRUE(startsWith(bad.error().message, dir.path("d.yml") + ":2: smtp_tls: ")) << bad.error().message;
}

TEST(FileOwnershipConfig, ModesAndOwnerAreCheckedNamingTheKey) {
  auto s = fromEnv({{"SIDECERT_FILE_OWNER", "1000"}, {"SIDECERT_KEY_MODE", "0440"}, {"SIDECERT_CERT_MODE", "644"}});
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->fileOwner, "1000");
  EXPECT_EQ(s->keyMode, 0440u);
  EXPECT_EQ(s->certMode, 0644u);
  EXPECT_FALSE(fromEnv({})->keyMode.has_value());
  const std::pair<Environment, std::string> cases[] = {
      {{{"SIDECERT_KEY_MODE", "0644"}}, "SIDECERT_KEY_MODE: '0644' lets every user of the host read the key"},
      {{{"SIDECERT_KEY_MODE", "0660"}}, "SIDECERT_KEY_MODE: '0660' lets others than the owner change the file"},
      {{{"SIDECERT_CERT_MODE", "0666"}}, "SIDECERT_CERT_MODE: '0666' lets others"},
      {{{"SIDECERT_CERT_MODE", "rw-r--r--"}}, "SIDECERT_CERT_MODE: 'rw-r--r--' is not a file mode"},
      {{{"SIDECERT_CERT_MODE", "04755"}}, "SIDECERT_CERT_MODE: '04755' is not a file mode"},
      {{{"SIDECERT_FILE_OWNER", "www data"}}, "SIDECERT_FILE_OWNER: 'www data' is not a user name or number"},
      {{{"SIDECERT_FILE_OWNER", "4294967295"}}, "SIDECERT_FILE_OWNER: '4294967295' is not a user number"},
  };
  for (const auto& [env, prefix] : cases) {
    std::string e = errorOf(env);
    EXPECT_TRUE(startsWith(e, prefix)) << "expected '" << prefix << "', got '" << e << "'";
  }
}
