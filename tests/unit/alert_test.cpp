// When operators are told: the conditions a pass's facts raise, and the start,
// reminder and clear each channel gets, across restarts.
#include <gtest/gtest.h>

#include <algorithm>

#include "alert/center.h"
#include "alert/conditions.h"
#include "alert/record_file.h"
#include "alert/schedule.h"
#include "core/time_format.h"
#include "store/posix_fs.h"
#include "test_support.h"

using namespace sc::alert;
using namespace std::chrono_literals;
using sc::TimePoint;

namespace {

const TimePoint T0 = sc::fromUnixSeconds(1'800'000'000);
const std::vector<std::string> kBoth = {"mail", "webhook"};

LineageFacts acmeServing(std::chrono::seconds left) {
  LineageFacts f;
  f.name = "api";
  f.served = true;
  f.source = "acme";
  f.notAfter = T0 + left;
  f.margin = std::chrono::hours(24 * 30);
  f.acme = true;
  return f;
}

std::vector<Condition> conditions(const LineageFacts& f, const Policy& p = {}, TimePoint now = T0) {
  std::vector<Condition> out;
  for (const auto& o : observe(f, p, now)) out.push_back(o.condition);
  return out;
}

std::vector<std::string> kinds(const std::vector<Notice>& notices) {
  std::vector<std::string> out;
  for (const auto& n : notices) out.push_back(std::string(n.channel) + ":" + noticeKindName(n.kind));
  return out;
}

}  // namespace

TEST(AlertConditions, WhatEachFactRaises) {
  auto days = [](int n) { return std::chrono::seconds(std::chrono::hours(24 * n)); };
  EXPECT_TRUE(conditions(acmeServing(days(60))).empty());
  auto failing = acmeServing(days(20));
  failing.caFailures = 2;
  failing.caLastError = "urn:ietf:params:acme:error:rateLimited";
  EXPECT_TRUE(conditions(failing).empty()) << "20 days left of a 30-day margin: not yet";
  failing.notAfter = T0 + days(14);
  EXPECT_EQ(conditions(failing), std::vector{Condition::RenewalFailing}) << "half the margin left";
  EXPECT_TRUE(conditions(failing, Policy{1h, days(7), 24h}).empty()) << "a configured window wins";
  auto obs = observe(failing, {}, T0);
  EXPECT_NE(obs[0].summary.find("2 times"), std::string::npos);
  EXPECT_EQ(obs[0].lastError, "urn:ietf:params:acme:error:rateLimited");

  LineageFacts fallback = acmeServing(days(90));
  fallback.source = "self-signed";
  auto ss = observe(fallback, {}, T0);
  ASSERT_EQ(ss.size(), 1u);
  EXPECT_EQ(ss[0].condition, Condition::SelfSigned);
  EXPECT_EQ(ss[0].fireAfter, 1h) << "a first start's fallback is trouble only once it lasts";
  fallback.fellBack = true;
  EXPECT_EQ(observe(fallback, {}, T0)[0].fireAfter, 0s) << "one that replaced a CA's set is told at once";

  LineageFacts nothing;
  nothing.name = "api";
  EXPECT_EQ(conditions(nothing), std::vector{Condition::NoValidCertificate});
  LineageFacts expired = acmeServing(-days(1));
  expired.problem = "expired";
  EXPECT_EQ(conditions(expired), std::vector{Condition::NoValidCertificate});

  LineageFacts user = acmeServing(days(40));
  user.source = "user";
  EXPECT_TRUE(conditions(user).empty());
  user.notAfter = T0 + days(29);
  EXPECT_EQ(conditions(user), std::vector{Condition::UserCertExpiring});
  user.heldReady = true;
  EXPECT_NE(observe(user, {}, T0)[0].advice.find("takes over"), std::string::npos);

  LineageFacts reload = acmeServing(days(60));
  reload.reloadFailures = kReloadFailuresToAlert - 1;
  EXPECT_TRUE(conditions(reload).empty());
  reload.reloadFailures = kReloadFailuresToAlert;
  reload.reloadError = "exited with status 3";
  EXPECT_EQ(conditions(reload), std::vector{Condition::ReloadFailing});

  LineageFacts risk = acmeServing(days(60));
  risk.orderAllowedAt = T0 + days(61);
  risk.atRiskWhy = "the order budget is spent: 5 orders in the last 90d (at most 5)";
  auto r = observe(risk, {}, T0);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].condition, Condition::RenewalAtRisk);
  EXPECT_EQ(r[0].severity, Severity::Critical);
  EXPECT_EQ(r[0].fireAfter, 0s) << "told at once, 60 days ahead";
  EXPECT_NE(r[0].summary.find("order budget is spent"), std::string::npos) << r[0].summary;
  EXPECT_EQ(conditionFrom("renewal_at_risk"), Condition::RenewalAtRisk);
}

TEST(AlertSchedule, StartAfterItsThresholdThenRemindersThenOneClear) {
  Policy policy{1h, std::nullopt, 24h};
  std::vector<Record> records;
  Observation o;
  o.condition = Condition::SelfSigned;
  o.fireAfter = 1h;
  merge(records, "api", {o}, T0);
  EXPECT_TRUE(dueNotices(records, kBoth, policy, {}, T0 + 59min).empty());
  EXPECT_EQ(nextDue(records, kBoth, policy, {}), T0 + 1h);
  auto due = dueNotices(records, kBoth, policy, {}, T0 + 1h);
  EXPECT_EQ(kinds(due), (std::vector<std::string>{"mail:start", "webhook:start"}));
  for (const auto& n : due) delivered(records, n, T0 + 1h);
  merge(records, "api", {o}, T0 + 2h);  // seen again by later passes: nothing new
  EXPECT_TRUE(dueNotices(records, kBoth, policy, {}, T0 + 2h).empty());
  EXPECT_EQ(kinds(dueNotices(records, kBoth, policy, {}, T0 + 25h)),
            (std::vector<std::string>{"mail:reminder", "webhook:reminder"}));
  merge(records, "api", {}, T0 + 3h);
  due = dueNotices(records, kBoth, policy, {}, T0 + 3h);
  EXPECT_EQ(kinds(due), (std::vector<std::string>{"mail:clear", "webhook:clear"}));
  delivered(records, due[0], T0 + 3h);
  EXPECT_EQ(kinds(dueNotices(records, kBoth, policy, {}, T0 + 3h)), std::vector<std::string>{"webhook:clear"});
  delivered(records, due[1], T0 + 3h);
  EXPECT_TRUE(records.empty());
}

TEST(AlertSchedule, AFallbackToldAtOnceStaysDueWhenLaterPassesSeeOnlyTheFallback) {
  std::vector<Record> records;
  Observation o;
  o.condition = Condition::SelfSigned;
  o.fireAfter = 0s;  // this pass put it over a CA's certificate
  merge(records, "api", {o}, T0);
  o.fireAfter = 1h;  // the next pass sees a fallback, no more
  merge(records, "api", {o}, T0 + 1min);
  EXPECT_EQ(kinds(dueNotices(records, {"mail"}, {}, {}, T0 + 1min)), std::vector<std::string>{"mail:start"});
}

TEST(AlertSchedule, AConditionGoneBeforeItsThresholdIsNeverTold) {
  std::vector<Record> records;
  Observation o;
  o.condition = Condition::SelfSigned;
  o.fireAfter = 1h;
  merge(records, "api", {o}, T0);
  merge(records, "api", {}, T0 + 10s);  // the first order came through
  EXPECT_TRUE(records.empty());
  EXPECT_TRUE(dueNotices(records, kBoth, {}, {}, T0 + 2h).empty());
}

TEST(AlertSchedule, AChannelThatFailsNeitherHoldsBackNorRepeatsTheOther) {
  Policy policy{1h, std::nullopt, 24h};
  std::vector<Record> records;
  Observation o;
  o.condition = Condition::RenewalFailing;
  merge(records, "api", {o}, T0);
  auto due = dueNotices(records, kBoth, policy, {}, T0);
  ASSERT_EQ(due.size(), 2u);
  delivered(records, due[1], T0);  // the webhook got it, the mail relay refused
  RetryTimes retry{{"mail", {{"api/renewal_failing", T0 + 30s}}}};
  EXPECT_TRUE(dueNotices(records, kBoth, policy, retry, T0 + 10s).empty());
  EXPECT_EQ(nextDue(records, kBoth, policy, retry), T0 + 30s);
  EXPECT_EQ(kinds(dueNotices(records, kBoth, policy, retry, T0 + 30s)), std::vector<std::string>{"mail:start"});
}

TEST(AlertSchedule, AFlapBeforeTheClearReachedEveryoneIsNoNewStart) {
  std::vector<Record> records;
  Observation o;
  o.condition = Condition::ReloadFailing;
  merge(records, "api", {o}, T0);
  for (const auto& n : dueNotices(records, kBoth, {}, {}, T0)) delivered(records, n, T0);
  merge(records, "api", {}, T0 + 1min);
  auto clears = dueNotices(records, kBoth, {}, {}, T0 + 1min);
  delivered(records, clears[0], T0 + 1min);  // mail heard it cleared
  merge(records, "api", {o}, T0 + 2min);     // back before the webhook did
  delivered(records, clears[1], T0 + 2min);  // a clear delivered late changes nothing now
  auto due = dueNotices(records, kBoth, {}, {}, T0 + 2min);
  EXPECT_EQ(kinds(due), std::vector<std::string>{"mail:start"}) << "mail was told it ended: it hears it began";
}

TEST(AlertSchedule, LineagesAreSeparateAndUnconfiguredOnesAreDropped) {
  std::vector<Record> records;
  Observation o;
  o.condition = Condition::SelfSigned;
  merge(records, "api", {o}, T0);
  merge(records, "admin", {o}, T0);
  merge(records, "api", {}, T0 + 1s);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].lineage, "admin");
  keepOnly(records, {"api"});
  EXPECT_TRUE(records.empty());
}

TEST(AlertRecords, RoundTripAndAHostileFile) {
  TempDir dir;
  sc::store::PosixFileSystem fs;
  RecordFile file(fs, dir.path());
  std::vector<Record> records;
  Observation o;
  o.condition = Condition::RenewalFailing;
  o.severity = Severity::Critical;
  o.fireAfter = 90s;
  o.summary = "renewal has failed";
  o.lastError = "the CA said \"no\"\n";
  merge(records, "api", {o}, T0);
  delivered(records, Notice{NoticeKind::Start, "mail", records[0]}, T0 + 2min);
  ASSERT_TRUE(file.save(records));
  auto back = file.load();
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].since, T0);
  EXPECT_EQ(back[0].latest.fireAfter, 90s);
  EXPECT_EQ(back[0].latest.severity, Severity::Critical);
  EXPECT_EQ(back[0].latest.lastError, o.lastError);
  EXPECT_EQ(back[0].notified.at("mail"), T0 + 2min);
  EXPECT_TRUE(dueNotices(back, {"mail"}, {}, {}, T0 + 3min).empty()) << "a restart does not tell it again";

  for (const char* hostile : {"", "[]", "{\"records\": 7}", "{\"records\": [{\"condition\": \"nope\"}]}",
                              "{\"records\": [{\"lineage\": \"api\", \"condition\": \"self_signed\", "
                              "\"since\": \"99999-01-01T00:00:00Z\"}]}"}) {
    dir.write("alerts.json", hostile);
    EXPECT_TRUE(file.load().empty()) << hostile;
  }
}

// A lineage discovery retired: its open condition is dropped, so no reminder and no
// all-clear is ever sent for it; another lineage's stays.
TEST(AlertCenter, ARetiredLineageIsForgottenAndTheOthersKept) {
  TempDir dir;
  sc::store::PosixFileSystem fs;
  struct Fixed : sc::TimeSource {
    TimePoint now() const override { return T0; }
  } clock;
  Center center({}, {}, RecordFile(fs, dir.path()), {"api", "web"}, "host", clock);
  LineageFacts broken;
  broken.acme = true;  // no set served: "no valid certificate"
  for (const char* name : {"api", "web"}) {
    broken.name = name;
    center.update(broken);
  }
  auto lineagesIn = [&] {
    std::vector<std::string> out;
    for (const auto& r : RecordFile(fs, dir.path()).load()) out.push_back(r.lineage);
    return out;
  };
  ASSERT_EQ(lineagesIn(), (std::vector<std::string>{"api", "web"}));
  center.forget("web");
  EXPECT_EQ(lineagesIn(), std::vector<std::string>{"api"});
}
