#include "app/lineage.h"

#include <gtest/gtest.h>

#include "crypto/self_sign.h"
#include "log/log.h"
#include "sources/self_signed_source.h"
#include "store/posix_fs.h"
#include "test_support.h"

using namespace sc;
using namespace std::chrono;

namespace {

const TimePoint t0 = Clock::from_time_t(1'800'000'000);
constexpr auto kDay = hours(24);

// Stands for a CA: issues 90-day certificates of the given kind, or fails.
class FakeIssuer : public sources::CertSource {
 public:
  explicit FakeIssuer(store::Source kind) : kind_(kind) {}
  store::Source kind() const override { return kind_; }
  Result<sources::Obtained> obtain(const sources::Request& req, TimePoint now) override {
    calls.push_back(now);
    if (failing) return fail("CA unreachable");
    auto key = crypto::PrivateKey::generate(req.keyType);
    auto cert = crypto::selfSign(*key, req.names, now, 90 * kDay);
    return sources::Obtained{sources::assembleFiles(*key, *cert, {}), cert->serialHex(), cert->issuer(),
                             cert->notAfter()};
  }
  std::optional<sources::RenewalHint> renewalHint(const store::CertFiles&, TimePoint) override { return hint; }
  std::vector<TimePoint> calls;
  bool failing = false;
  std::optional<sources::RenewalHint> hint;  // what ARI would say

 private:
  store::Source kind_;
};

class FakeReloader : public reload::Reloader {
 public:
  Status reload() override {
    ++calls;
    if (failing) return fail("gateway not running");
    return {};
  }
  std::string describe() const override { return "fake"; }
  int calls = 0;
  bool failing = false;
};

struct LineageTest : ::testing::Test {
  TempDir dir;
  store::PosixFileSystem fs;
  store::Volume volume{fs, dir.path(), "gw"};
  store::StateStore state{fs, dir.path(), "gw"};
  FakeIssuer acme{store::Source::Acme};
  sources::SelfSignedSource selfSigned;
  FakeReloader reloader;
  std::vector<std::string> events;
  std::unique_ptr<app::Lineage> lineage;

  void SetUp() override {
    log::captureForTests([this](const std::string& line) { events.push_back(line); });
    log::setup(LogFormat::Text, LogLevel::Debug);
    volume.prepare();
    app::Policy p;
    p.names = p.requiredNames = {"a.test"};
    lineage = std::make_unique<app::Lineage>(p, volume, state, std::vector<sources::CertSource*>{&acme, &selfSigned},
                                             reloader);
  }
  void TearDown() override { log::captureForTests(nullptr); }
  bool logged(const std::string& text) const {
    return std::any_of(events.begin(), events.end(), [&](const std::string& e) { return e.find(text) != std::string::npos; });
  }
  void dropUserSet(TimePoint from, hours life) {
    auto key = crypto::PrivateKey::generate(KeyType::Ec256);
    auto cert = crypto::selfSign(*key, {"a.test"}, from, life);
    dir.write("live/gw/privkey.pem", key->toPem());
    dir.write("live/gw/cert.pem", cert->toPem());
  }
};

}  // namespace

TEST_F(LineageTest, FirstPassPutsSelfSignedInPlaceBeforeAskingTheCa) {
  acme.failing = true;
  auto r = lineage->pass(t0);
  EXPECT_TRUE(r.healthy());
  EXPECT_EQ(r.live->source, "self-signed");
  EXPECT_EQ(acme.calls.size(), 1u);
  // The self-signed set was published before the CA was asked.
  auto published = std::find_if(events.begin(), events.end(), [](auto& e) { return e.find("source=self-signed reason") != std::string::npos; });
  auto asked = std::find_if(events.begin(), events.end(), [](auto& e) { return e.find("issue_failed") != std::string::npos; });
  EXPECT_LT(published, asked);
  EXPECT_TRUE(logged("error=\"CA unreachable\""));
  EXPECT_EQ(reloader.calls, 1);
}

TEST_F(LineageTest, ABetterSourceReplacesSelfSignedAndTheGatewayIsToldOnce) {
  auto r = lineage->pass(t0);
  EXPECT_EQ(r.live->source, "acme");
  EXPECT_TRUE(r.changed);
  EXPECT_EQ(reloader.calls, 1);
  EXPECT_EQ(r.nextCheck, t0 + 7 * kDay);  // the check interval comes before renewal (day 60)
}

TEST_F(LineageTest, NothingIsOrderedUntilRenewalIsDueThenANewSerial) {
  auto first = lineage->pass(t0);
  auto calls = acme.calls.size();
  auto quiet = lineage->pass(t0 + 10 * kDay);
  EXPECT_EQ(acme.calls.size(), calls);
  EXPECT_FALSE(quiet.changed);
  EXPECT_EQ(reloader.calls, 1);
  auto due = lineage->pass(t0 + 61 * kDay);
  EXPECT_EQ(acme.calls.size(), calls + 1);
  EXPECT_NE(due.live->serial, first.live->serial);
  EXPECT_EQ(due.live->source, "acme");
  EXPECT_EQ(reloader.calls, 2);
}

TEST_F(LineageTest, AFailedRenewalKeepsTheValidSetAndRetriesSoon) {
  lineage->pass(t0);
  acme.failing = true;
  auto r = lineage->pass(t0 + 61 * kDay);
  EXPECT_EQ(r.live->source, "acme");
  EXPECT_TRUE(r.healthy());
  EXPECT_EQ(r.nextCheck, t0 + 61 * kDay + app::kRetryAfterError);
}

TEST_F(LineageTest, AValidUserSetIsNeverReplacedButWarnedAboutThenFallsBackWhenExpired) {
  lineage->pass(t0);
  dropUserSet(t0, hours(24 * 90));
  auto r = lineage->pass(t0 + seconds(1));
  ASSERT_EQ(r.live->source, "user");
  auto calls = acme.calls.size();
  auto warned = lineage->pass(t0 + 65 * kDay);  // 25 days left, under the 30-day margin
  EXPECT_EQ(warned.live->source, "user");
  EXPECT_EQ(acme.calls.size(), calls);
  EXPECT_TRUE(logged("user_cert_expiring"));
  EXPECT_EQ(warned.nextCheck, t0 + 66 * kDay);  // warned again daily
  auto expired = lineage->pass(t0 + 91 * kDay);
  EXPECT_EQ(expired.live->source, "acme");
  EXPECT_TRUE(logged("the user certificate is no longer usable: the certificate expired"));
}

TEST_F(LineageTest, AFailedReloadIsRetriedByTheNextPassWithoutAChange) {
  reloader.failing = true;
  auto r = lineage->pass(t0);
  EXPECT_EQ(reloader.calls, 1);
  EXPECT_EQ(r.nextCheck, t0 + app::kReloadRetry);
  EXPECT_TRUE(logged("reload_failed"));
  reloader.failing = false;
  auto again = lineage->pass(t0 + app::kReloadRetry);
  EXPECT_FALSE(again.changed);
  EXPECT_EQ(reloader.calls, 2);
  lineage->pass(t0 + 2 * app::kReloadRetry);
  EXPECT_EQ(reloader.calls, 2);  // told once, not again
}

TEST_F(LineageTest, ChangedNamesMakeOurSetUnusableAndItIsReissued) {
  lineage->pass(t0);
  app::Policy p;
  p.names = p.requiredNames = {"a.test", "b.test"};
  app::Lineage wider(p, volume, state, {&acme, &selfSigned}, reloader);
  auto r = wider.pass(t0 + seconds(5));
  EXPECT_TRUE(r.changed);
  EXPECT_EQ(r.live->names, (std::vector<std::string>{"a.test", "b.test"}));
}

TEST_F(LineageTest, NoKeyMaterialReachesTheLogAtAnyLevel) {
  lineage->pass(t0);
  dropUserSet(t0, hours(24 * 20));
  lineage->pass(t0 + seconds(1));
  ASSERT_FALSE(events.empty());
  for (const auto& e : events) EXPECT_EQ(e.find("PRIVATE KEY"), std::string::npos) << e;
}

TEST_F(LineageTest, AnAriWindowWinsOverTheDefaultRule) {
  lineage->pass(t0);
  acme.hint = sources::RenewalHint{t0 + 10 * kDay, std::nullopt};
  auto planned = lineage->pass(t0 + kDay);
  EXPECT_FALSE(planned.changed);
  EXPECT_EQ(planned.nextCheck, t0 + 7 * kDay + kDay);  // the interval comes first; day 10 is later
  auto calls = acme.calls.size();
  auto renewed = lineage->pass(t0 + 11 * kDay);  // inside the window, long before day 60
  EXPECT_TRUE(renewed.changed);
  EXPECT_EQ(acme.calls.size(), calls + 1);
}

TEST_F(LineageTest, TheNextCheckFollowsAriAndItsRetryAfter) {
  lineage->pass(t0);
  acme.hint = sources::RenewalHint{t0 + 10 * kDay, t0 + kDay + hours(6)};
  auto r = lineage->pass(t0 + kDay);
  EXPECT_EQ(r.nextCheck, t0 + kDay + hours(6));  // asked again at its Retry-After
  acme.hint = sources::RenewalHint{t0 + 3 * kDay, std::nullopt};
  auto s = lineage->pass(t0 + 2 * kDay);
  EXPECT_EQ(s.nextCheck, t0 + 3 * kDay);
}

TEST_F(LineageTest, AFailedCaIsNotAskedAgainBeforeItsBackoff) {
  acme.failing = true;
  auto first = lineage->pass(t0);
  EXPECT_EQ(acme.calls.size(), 1u);
  EXPECT_EQ(first.nextCheck, t0 + minutes(1));  // the better source's retry time
  lineage->pass(t0 + seconds(30));
  EXPECT_EQ(acme.calls.size(), 1u);
  auto second = lineage->pass(t0 + minutes(1));
  EXPECT_EQ(acme.calls.size(), 2u);
  EXPECT_EQ(second.nextCheck, t0 + minutes(11));
  acme.failing = false;
  auto third = lineage->pass(t0 + minutes(11));
  EXPECT_EQ(third.live->source, "acme");
  EXPECT_EQ(state.load().backoff.size(), 0u);  // success clears it
}
