#include "config/load.h"

#include <gtest/gtest.h>

#include <fstream>

#include "test_support.h"

using sc::Environment;
using sc::loadSettings;

namespace {

sc::Result<sc::Settings> fromEnv(Environment env) { return loadSettings(std::nullopt, env, "host-1"); }

std::string errorOf(const sc::Result<sc::Settings>& r) { return r ? "" : r.error().message; }

}  // namespace

TEST(Config, DefaultsWithNothingSet) {
  auto s = fromEnv({});
  ASSERT_TRUE(s) << errorOf(s);
  EXPECT_EQ(s->domains, std::vector<std::string>{"host-1"});
  EXPECT_TRUE(s->domainsFromHostname);
  EXPECT_EQ(s->name, "host-1");
  EXPECT_EQ(s->volume, "/etc/letsencrypt");
  EXPECT_EQ(s->acmeDirectories, std::vector<std::string>{"https://acme-v02.api.letsencrypt.org/directory"});
  EXPECT_EQ(s->keyType, sc::KeyType::Ec256);
  EXPECT_EQ(s->http01Port, 80);
  EXPECT_TRUE(s->http01Host.empty());
  EXPECT_FALSE(s->renewBefore.has_value());
  EXPECT_EQ(s->checkInterval, std::chrono::hours(24 * 7));
}

TEST(Config, DomainsAreValidatedLowerCasedAndDeduplicated) {
  auto s = fromEnv({{"SIDECERT_DOMAINS", "Example.TEST, www.example.test,example.test"}});
  ASSERT_TRUE(s) << errorOf(s);
  EXPECT_EQ(s->domains, (std::vector<std::string>{"example.test", "www.example.test"}));
  EXPECT_EQ(s->name, "example.test");
  for (const char* bad : {"*.example.test", "10.1", "a..b", "-a.test", "under_score.test", ","}) {
    auto r = fromEnv({{"SIDECERT_DOMAINS", bad}});
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().message.rfind("SIDECERT_DOMAINS: ", 0), 0u) << r.error().message;
  }
}

TEST(Config, AiotesAliasesAndLineageName) {
  auto s = fromEnv({{"AIOTES_HOSTNAME", "gw.example.test"}, {"AIOTES_SYSADMIN_EMAIL", "ops@example.test"}});
  ASSERT_TRUE(s) << errorOf(s);
  EXPECT_EQ(s->domains, std::vector<std::string>{"gw.example.test"});
  EXPECT_EQ(s->email, "ops@example.test");
  EXPECT_EQ(s->name, "aiotes");
  // Explicit settings win over the aliases, and then the name is the first domain.
  auto t = fromEnv({{"AIOTES_HOSTNAME", "gw.example.test"}, {"SIDECERT_DOMAINS", "other.test"}});
  ASSERT_TRUE(t);
  EXPECT_EQ(t->domains, std::vector<std::string>{"other.test"});
  EXPECT_EQ(t->name, "other.test");
}

TEST(Config, EnvironmentWinsOverYaml) {
  TempDir dir;
  std::string file = dir.write("c.yml", "domains:\n  - a.test\n  - b.test\nkey_type: ec384\nrenew_before: 10d\n");
  auto s = loadSettings(file, {{"SIDECERT_KEY_TYPE", "rsa2048"}}, "h");
  ASSERT_TRUE(s) << errorOf(s);
  EXPECT_EQ(s->domains, (std::vector<std::string>{"a.test", "b.test"}));
  EXPECT_EQ(s->keyType, sc::KeyType::Rsa2048);
  EXPECT_EQ(*s->renewBefore, std::chrono::hours(240));
  EXPECT_EQ(s->origins["key_type"], "SIDECERT_KEY_TYPE");
  EXPECT_EQ(s->origins["renew_before"], file + ":5");
}

TEST(Config, YamlErrorsNameFileLineAndKey) {
  TempDir dir;
  auto bad = [&](const std::string& yaml) {
    auto r = loadSettings(dir.write("c.yml", yaml), {}, "h");
    return r ? std::string("accepted") : r.error().message;
  };
  EXPECT_EQ(bad("domains: a.test\n\nkey_type: ec512\n"),
            dir.path("c.yml") + ":3: key_type: unknown key type 'ec512' (expected ec256, ec384, rsa2048, rsa3072 or rsa4096)");
  EXPECT_EQ(bad("domians: a.test\n"), dir.path("c.yml") + ":1: domians: unknown setting");
  EXPECT_NE(bad("domains: [a.test\n").find(dir.path("c.yml") + ":"), std::string::npos);
  EXPECT_NE(bad("domains: [a.test\n").find("not valid YAML"), std::string::npos);
  EXPECT_EQ(bad("check_interval: {a: 1}\n"), dir.path("c.yml") + ":1: check_interval: expects a value or a list, not a mapping");
  EXPECT_EQ(bad("- a\n- b\n"), dir.path("c.yml") + ":1: the config file must be a mapping of settings");
}

TEST(Config, EveryValueIsChecked) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"SIDECERT_EMAIL", "not-an-email"},        {"SIDECERT_NAME", "../escape"},
      {"SIDECERT_ACME_DIRECTORY", "http://x"},   {"SIDECERT_KEY_TYPE", "dsa"},
      {"SIDECERT_HTTP01_LISTEN", "80"},          {"SIDECERT_HTTP01_LISTEN", ":99999"},
      {"SIDECERT_HTTP01_LISTEN", "::1:80"},      {"SIDECERT_RENEW_BEFORE", "30"},
      {"SIDECERT_CHECK_INTERVAL", "0s"},         {"SIDECERT_LOG_FORMAT", "xml"},
      {"SIDECERT_LOG_LEVEL", "verbose"},         {"SIDECERT_RELOAD", "shell:reboot"},
      {"SIDECERT_RELOAD", "command:nginx -s reload"}, {"SIDECERT_ACME_CA_BUNDLE", "/nonexistent/ca.pem"},
      {"SIDECERT_FILE_GROUP", "a b"},            {"SIDECERT_UNKNOWN", "1"}};
  for (const auto& [key, value] : cases) {
    auto r = fromEnv({{key, value}});
    ASSERT_FALSE(r) << key << "=" << value;
    EXPECT_EQ(r.error().message.rfind(key + ": ", 0), 0u) << r.error().message;
  }
}

TEST(Config, ListenAddressesAndDirectoryShortcuts) {
  auto s = fromEnv({{"SIDECERT_HTTP01_LISTEN", "[::1]:5002"},
                    {"SIDECERT_ACME_DIRECTORY", "letsencrypt-staging, zerossl"}});
  ASSERT_TRUE(s) << errorOf(s);
  EXPECT_EQ(s->http01Host, "::1");
  EXPECT_EQ(s->http01Port, 5002);
  EXPECT_EQ(s->acmeDirectories, (std::vector<std::string>{"https://acme-staging-v02.api.letsencrypt.org/directory",
                                                          "https://acme.zerossl.com/v2/DV90"}));
  auto off = fromEnv({{"SIDECERT_ACME_DIRECTORY", "none"}});
  ASSERT_TRUE(off);
  EXPECT_TRUE(off->acmeDirectories.empty());
}

TEST(Config, EabNeedsBothHalves) {
  auto r = fromEnv({{"SIDECERT_EAB_KID", "kid-1"}});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("SIDECERT_EAB_HMAC_KEY"), std::string::npos);
  EXPECT_TRUE(fromEnv({{"SIDECERT_EAB_KID", "kid-1"}, {"SIDECERT_EAB_HMAC_KEY", "c2VjcmV0"}}));
}

TEST(Config, ReloadCommandForms) {
  auto words = fromEnv({{"SIDECERT_RELOAD", "command:/usr/sbin/nginx -s reload"}});
  ASSERT_TRUE(words) << errorOf(words);
  EXPECT_EQ(words->reload.argv, (std::vector<std::string>{"/usr/sbin/nginx", "-s", "reload"}));
  auto list = fromEnv({{"SIDECERT_RELOAD", R"(command:["/bin/echo", "a b"])"}});
  ASSERT_TRUE(list) << errorOf(list);
  EXPECT_EQ(list->reload.argv, (std::vector<std::string>{"/bin/echo", "a b"}));
  TempDir dir;
  auto yaml = loadSettings(dir.write("c.yml", "reload: [/bin/kill, -HUP, '1']\n"), {}, "h");
  ASSERT_TRUE(yaml) << errorOf(yaml);
  EXPECT_EQ(yaml->reload.argv, (std::vector<std::string>{"/bin/kill", "-HUP", "1"}));
}

TEST(Config, TheOrderBudgetIsOrdersPerDuration) {
  auto d = fromEnv({{"SIDECERT_DOMAINS", "a.test"}});
  ASSERT_TRUE(d);
  EXPECT_EQ(d->orderBudget, 5);
  EXPECT_EQ(d->orderWindow, std::chrono::hours(24 * 7));
  auto s = fromEnv({{"SIDECERT_DOMAINS", "a.test"}, {"SIDECERT_ORDER_BUDGET", "50/1h"}});
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->orderBudget, 50);
  EXPECT_EQ(s->orderWindow, std::chrono::hours(1));
  for (const char* bad : {"5", "0/7d", "-1/7d", "5/", "/7d", "5/0s", "x/7d", "9999999/7d", "5/7parsecs"}) {
    auto r = fromEnv({{"SIDECERT_DOMAINS", "a.test"}, {"SIDECERT_ORDER_BUDGET", bad}});
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().message.find("SIDECERT_ORDER_BUDGET"), std::string::npos) << r.error().message;
  }
}

TEST(Config, TheSingleCertificateSettingsAreAListOfOne) {
  auto s = fromEnv({{"SIDECERT_DOMAINS", "a.test,b.test"}, {"SIDECERT_KEY_TYPE", "ec384"}, {"SIDECERT_RELOAD", "signal:nginx"}});
  ASSERT_TRUE(s) << errorOf(s);
  ASSERT_EQ(s->certificates.size(), 1u);
  EXPECT_EQ(s->certificates[0].name, "a.test");
  EXPECT_EQ(s->certificates[0].domains, (std::vector<std::string>{"a.test", "b.test"}));
  EXPECT_EQ(s->certificates[0].keyType, sc::KeyType::Ec384);
  EXPECT_EQ(s->certificates[0].reload.target, "nginx");
  auto aiotes = fromEnv({{"AIOTES_HOSTNAME", "gw.example.test"}});
  ASSERT_TRUE(aiotes) << errorOf(aiotes);
  EXPECT_EQ(aiotes->certificates[0].name, "aiotes");
}

TEST(Config, ACertificatesListTakesEachEntrysOwnSettingsOverTheShared) {
  TempDir dir;
  std::string file = dir.write("c.yml",
                               "key_type: rsa2048\n"
                               "reload: signal:nginx\n"
                               "renew_before: 20d\n"
                               "certificates:\n"
                               "  - name: api\n"
                               "    domains: [api.example.test, www.example.test]\n"
                               "    key_type: ec384\n"
                               "    acme_profile: shortlived\n"
                               "  - name: admin\n"
                               "    domains: admin.example.test\n"
                               "    reload: command:/bin/true\n"
                               "    renew_before: 5d\n");
  auto s = loadSettings(file, {}, "h");
  ASSERT_TRUE(s) << errorOf(s);
  ASSERT_EQ(s->certificates.size(), 2u);
  const auto& api = s->certificates[0];
  const auto& admin = s->certificates[1];
  EXPECT_EQ(api.name, "api");
  EXPECT_EQ(api.domains, (std::vector<std::string>{"api.example.test", "www.example.test"}));
  EXPECT_EQ(api.keyType, sc::KeyType::Ec384);
  EXPECT_EQ(api.acmeProfile, "shortlived");
  EXPECT_EQ(api.reload.target, "nginx");                      // shared
  EXPECT_EQ(*api.renewBefore, std::chrono::hours(24 * 20));   // shared
  EXPECT_EQ(admin.keyType, sc::KeyType::Rsa2048);             // shared
  EXPECT_EQ(admin.reload.kind, sc::ReloadSpec::Kind::Command);  // its own
  EXPECT_EQ(*admin.renewBefore, std::chrono::hours(24 * 5));
  EXPECT_EQ(admin.origin, file + ":9");
  EXPECT_EQ(s->name, "api");  // the first also fills the single fields
}

TEST(Config, ACertificatesListInTheEnvironmentIsNameEqualsDomains) {
  auto s = fromEnv({{"SIDECERT_CERTIFICATES", "api=api.example.test,www.example.test; admin=admin.example.test;"}});
  ASSERT_TRUE(s) << errorOf(s);
  ASSERT_EQ(s->certificates.size(), 2u);
  EXPECT_EQ(s->certificates[1].name, "admin");
  EXPECT_EQ(s->certificates[1].domains, std::vector<std::string>{"admin.example.test"});
  TempDir dir;
  std::string file = dir.write("c.yml", "certificates:\n  - name: from-file\n    domains: f.test\n");
  auto wins = loadSettings(file, {{"SIDECERT_CERTIFICATES", "env=e.test"}}, "h");
  ASSERT_TRUE(wins) << errorOf(wins);
  EXPECT_EQ(wins->certificates.size(), 1u);
  EXPECT_EQ(wins->certificates[0].name, "env");
  auto empty = fromEnv({{"SIDECERT_CERTIFICATES", " "}, {"SIDECERT_DOMAINS", "d.test"}});  // compose's ${VAR:-}
  ASSERT_TRUE(empty) << errorOf(empty);
  EXPECT_EQ(empty->certificates.size(), 1u);
}

TEST(Config, TheSingleCertificateSettingsBesideAListAreItsFirstLineage) {
  auto s = fromEnv({{"AIOTES_HOSTNAME", "gw.example.test"}, {"SIDECERT_CERTIFICATES", "admin=admin.example.test"}});
  ASSERT_TRUE(s) << errorOf(s);
  ASSERT_EQ(s->certificates.size(), 2u);
  EXPECT_EQ(s->certificates[0].name, "aiotes");
  EXPECT_EQ(s->certificates[0].domains, std::vector<std::string>{"gw.example.test"});
  EXPECT_EQ(s->certificates[1].name, "admin");
  EXPECT_EQ(s->name, "aiotes");
}

TEST(Config, ABadCertificatesListNamesTheEntryAndTheKey) {
  TempDir dir;
  auto bad = [&](const std::string& yaml, Environment env = {}) {
    auto r = loadSettings(dir.write("c.yml", yaml), env, "h");
    return r ? std::string("accepted") : r.error().message;
  };
  const std::string f = dir.path("c.yml");
  EXPECT_EQ(bad("certificates:\n  - name: a\n    domains: a.test\n  - name: a\n    domains: b.test\n"),
            f + ":4: certificates: the name 'a' is given twice; each has its own folder");
  EXPECT_EQ(bad("certificates:\n  - name: a\n"), f + ":2: certificates: an entry without domains");
  EXPECT_EQ(bad("certificates:\n  - domains: a.test\n"), f + ":2: certificates: an entry without a name");
  EXPECT_EQ(bad("certificates:\n  - name: a\n    domains: a.test\n    key_type: dsa\n"),
            f + ":4: key_type: unknown key type 'dsa' (expected ec256, ec384, rsa2048, rsa3072 or rsa4096)");
  EXPECT_EQ(bad("certificates:\n  - name: ../up\n    domains: a.test\n"),
            f + ":2: name: '../up' is not a usable folder name (letters, digits, '.', '-', '_'; at most 64)");
  EXPECT_NE(bad("certificates:\n  - name: a\n    domains: a.test\n    email: x@a.test\n").find(
                f + ":4: email: not a setting of one certificate"),
            std::string::npos);
  EXPECT_NE(bad("certificates: a.test\n").find("expects a list of certificates"), std::string::npos);
  EXPECT_NE(bad("certificates:\n  - a.test\n").find("each certificate is a mapping"), std::string::npos);
  EXPECT_NE(bad("name: x\ncertificates:\n  - name: a\n    domains: a.test\n").find(f + ":1: name: names the certificate"),
            std::string::npos);
  EXPECT_EQ(bad("certificates:\n  - name: aiotes\n    domains: a.test\n", {{"AIOTES_HOSTNAME", "gw.example.test"}}),
            f + ":2: certificates: the name 'aiotes' is also the name of AIOTES_HOSTNAME's certificate; each has its own folder");
  EXPECT_EQ(errorOf(fromEnv({{"SIDECERT_CERTIFICATES", "api.example.test"}})),
            "SIDECERT_CERTIFICATES: 'api.example.test' is not NAME=DOMAINS (such as api=api.example.com,www.example.com)");
  EXPECT_EQ(errorOf(fromEnv({{"SIDECERT_CERTIFICATES", "a=10.1"}})).rfind("SIDECERT_CERTIFICATES: ", 0), 0u);
}

// A stack file passes the discovery settings through as ${VAR:-}: empty values.
TEST(Config, EmptyDiscoverySettingsAreNoneGivenAndTheAllowListIsStillRequired) {
  auto off = fromEnv({{"SIDECERT_DOMAINS", "a.test"}, {"SIDECERT_DISCOVER", ""}, {"SIDECERT_DISCOVER_ALLOW", ""}});
  ASSERT_TRUE(off) << errorOf(off);
  EXPECT_FALSE(off->discover.on());
  auto on = fromEnv({{"SIDECERT_DISCOVER", "swarm"}, {"SIDECERT_DISCOVER_ALLOW", " "}});
  ASSERT_FALSE(on);
  EXPECT_NE(errorOf(on).find("SIDECERT_DISCOVER_ALLOW: required with SIDECERT_DISCOVER=swarm"), std::string::npos)
      << errorOf(on);
  auto commas = fromEnv({{"SIDECERT_DISCOVER", "docker"}, {"SIDECERT_DISCOVER_ALLOW", ","}});
  ASSERT_FALSE(commas);
  EXPECT_NE(errorOf(commas).find("names no domain pattern"), std::string::npos) << errorOf(commas);
}
