#pragma once
// The fakes and fixture the Lineage tests share: a CA that issues or fails as told,
// a gateway that reloads or fails, a volume in a temporary folder, a manual clock.
#include "core/time_format.h"
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

const TimePoint t0 = fromUnixSeconds(1'800'000'000);
constexpr auto kDay = hours(24);

struct ManualTime : TimeSource {
  TimePoint at = t0;
  TimePoint now() const override { return at; }
};

// Stands for a CA: issues 90-day certificates of the given kind, or fails.
class FakeIssuer : public sources::CertSource {
 public:
  explicit FakeIssuer(store::Source kind) : kind_(kind) {}
  store::Source kind() const override { return kind_; }
  Result<sources::CertSet> obtain(const sources::Request& req, TimePoint now) override {
    if (kind_ == store::Source::Acme && !notReady) {  // as AcmeSource does before every order
      if (!req.journal) return fail("no journal");
      if (auto ok = req.journal->beforeOrder(); !ok) return std::unexpected(ok.error());
    }
    calls.push_back(now);
    if (clock) clock->at += takes;
    if (notReady) return failAs(ErrorKind::NotReady, "no TXT record at _validation-persist.a.test yet");
    if (failing) return fail("CA unreachable");
    auto key = crypto::PrivateKey::generate(req.keyType);
    auto cert = crypto::selfSign(*key, issuedNames.empty() ? req.names : issuedNames, now, lifetime);
    return sources::certSetOf(sources::assembleFiles(*key, *cert, {}));
  }
  std::optional<sources::RenewalHint> renewalHint(const store::CertFiles&, TimePoint, milliseconds limit) override {
    hintLimits.push_back(limit);
    if (clock && hintHangs) clock->at += limit;  // a CA that never answers: the limit ends the request
    return hintHangs ? std::nullopt : hint;
  }
  std::vector<TimePoint> calls;
  std::vector<milliseconds> hintLimits;
  bool hintHangs = false;
  bool failing = false;
  bool notReady = false;  // as a dns-persist-01 solver before its record exists: nothing asked of the CA
  seconds lifetime = 90 * kDay;
  std::vector<std::string> issuedNames;  // a CA that issues for other names
  struct ManualTime* clock = nullptr;    // advanced by `takes` per attempt
  seconds takes{0};
  std::optional<sources::RenewalHint> hint;  // what ARI would say

 private:
  store::Source kind_;
};

class FakeReloader : public reload::Reloader {
 public:
  Status reload(const reload::ReloadEvent& e) override {
    ++calls;
    sources.push_back(e.source);
    if (failing) return fail("gateway not running");
    return {};
  }
  std::string describe() const override { return "fake"; }
  bool tellsStandInFirst() const override { return standInFirst; }
  int calls = 0;
  bool failing = false;
  bool standInFirst = false;
  std::vector<std::string> sources;  // of the sets it was told of
};

struct LineageTest : ::testing::Test {
  TempDir dir;
  store::PosixFileSystem fs;
  store::Volume volume{fs, dir.path(), dir.path("state"), "gw"};
  store::StateStore state{fs, dir.path("state"), "gw"};
  FakeIssuer acme{store::Source::Acme};
  sources::SelfSignedSource selfSigned;
  FakeReloader reloader;
  ManualTime clock;  // attempts take no time unless a test says so
  std::vector<std::string> events;
  std::unique_ptr<app::Lineage> lineage;

  void SetUp() override {
    log::captureForTests([this](const std::string& line) { events.push_back(line); });
    log::setup(LogFormat::Text, LogLevel::Debug);
    ASSERT_TRUE(volume.prepare());
    app::Policy p;
    p.names = p.requiredNames = {"a.test"};
    lineage = std::make_unique<app::Lineage>(p, volume, state, std::vector<sources::CertSource*>{&acme, &selfSigned},
                                             reloader, clock);
  }
  void TearDown() override { log::captureForTests(nullptr); }
  bool logged(const std::string& text) const {
    return std::any_of(events.begin(), events.end(), [&](const std::string& e) { return e.find(text) != std::string::npos; });
  }
  void dropUserSet(TimePoint from, hours life, const std::string& name = "a.test") {
    auto key = crypto::PrivateKey::generate(KeyType::Ec256);
    auto cert = crypto::selfSign(*key, {name}, from, life);
    dir.write("live/gw/privkey.pem", key->toPem());
    dir.write("live/gw/cert.pem", cert->toPem());
  }
};

}  // namespace
