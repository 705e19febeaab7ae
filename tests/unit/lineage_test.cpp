#include "lineage_fixture.h"

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

TEST_F(LineageTest, TheAfterFirstPassHookRunsOnceWithTheFallbackAlreadyInPlace) {
  acme.failing = true;
  int runs = 0;
  bool fallbackServed = false;
  lineage->setAfterFirstPass([&] {
    ++runs;
    fallbackServed = std::filesystem::exists(dir.path("live/gw/cert.pem"));
  });
  lineage->pass(t0);
  lineage->pass(t0 + hours(1));
  EXPECT_EQ(runs, 1);
  EXPECT_TRUE(fallbackServed);
}

TEST_F(LineageTest, EachPassPublishesOnlyWhatChangedAndASecondPassNothing) {
  acme.failing = true;
  lineage->pass(t0);
  EXPECT_EQ(fs.list(dir.path("archive/gw"))->size(), 1u);  // the self-signed set, once
  auto again = lineage->pass(t0 + seconds(1));
  EXPECT_FALSE(again.changed);
  EXPECT_EQ(fs.list(dir.path("archive/gw"))->size(), 1u);
  acme.failing = false;
  lineage->pass(t0 + hours(1));
  EXPECT_EQ(fs.list(dir.path("archive/gw"))->size(), 2u);  // and the ACME set
}

TEST_F(LineageTest, AGatewayThatCarriesTheChallengeGetsTheStandInBeforeTheCaIsAsked) {
  reloader.standInFirst = true;
  auto r = lineage->pass(t0);
  EXPECT_EQ(r.live->source, "acme");
  EXPECT_EQ(reloader.sources, (std::vector<std::string>{"self-signed", "acme"}));
  auto told = std::find_if(events.begin(), events.end(), [](auto& e) { return e.find("reload_done") != std::string::npos; });
  auto issued = std::find_if(events.begin(), events.end(), [](auto& e) { return e.find("source=acme names") != std::string::npos; });
  EXPECT_LT(told, issued);
}

TEST_F(LineageTest, ASetFromTheSwarmsStoreReplacesWhatTheVolumeHoldsOnlyWhenItIsAnotherValidCaSet) {
  auto setFrom = [](TimePoint from) {  // as the store would hand it back: another node's set
    auto key = crypto::PrivateKey::generate(KeyType::Ec256);
    auto cert = crypto::selfSign(*key, {"a.test"}, from, 90 * kDay);
    return sources::certSetOf(sources::assembleFiles(*key, *cert, {}))->files;
  };
  auto stored = setFrom(t0);
  EXPECT_TRUE(lineage->restore(stored, store::Source::Acme, t0));
  EXPECT_TRUE(logged("swarm_set_restored name=gw source=acme"));
  EXPECT_FALSE(lineage->restore(stored, store::Source::Acme, t0));  // the same: nothing to do
  EXPECT_FALSE(lineage->restore(setFrom(t0), store::Source::SelfSigned, t0));       // a stand-in
  EXPECT_FALSE(lineage->restore(setFrom(t0 - 91 * kDay), store::Source::Acme, t0));  // expired
  auto r = lineage->pass(t0 + seconds(1));
  EXPECT_EQ(r.live->source, "acme");
  EXPECT_EQ(r.live->serial, crypto::Certificate::parseAll(stored.cert)->front().serialHex());
  EXPECT_TRUE(acme.calls.empty());  // nothing ordered: the restored set is valid
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
  EXPECT_EQ(r.nextCheck, t0 + 61 * kDay + renew::failureBackoff(1, seconds(0)));
}

TEST_F(LineageTest, AValidUserSetIsNeverReplacedAndItsExpiryIsWarnedOfOnceADayAcrossRestarts) {
  acme.failing = true;  // nothing to hold in reserve: the user's set stays whatever happens
  lineage->pass(t0);
  dropUserSet(t0, hours(24 * 90));
  ASSERT_EQ(lineage->pass(t0 + seconds(1)).live->source, "user");
  auto count = [&] { return std::count_if(events.begin(), events.end(), [](auto& e) { return e.find("user_cert_expiring") != std::string::npos; }); };
  auto warned = lineage->pass(t0 + 65 * kDay);  // 25 days left, under the 30-day margin
  EXPECT_EQ(warned.live->source, "user");
  EXPECT_EQ(count(), 1);
  EXPECT_EQ(warned.nextCheck, t0 + 65 * kDay + minutes(10));  // the CA asked ahead failed a second time: its backoff
  lineage->pass(t0 + 65 * kDay + seconds(1));
  app::Lineage restarted(lineage->policy(), volume, state, {&acme, &selfSigned}, reloader, clock);
  EXPECT_EQ(restarted.pass(t0 + 65 * kDay + hours(2)).live->source, "user");
  EXPECT_EQ(count(), 1);  // not again within the day, not after a restart
  restarted.pass(t0 + 66 * kDay);
  EXPECT_EQ(count(), 2);
}

// A gateway that reloads while refused files sit in live/<name>/ reads them; told
// again after they went aside, it reads the set put back.
TEST_F(LineageTest, ARefusedUserSetIsFollowedByAReloadOfTheSetPutBack) {
  auto first = lineage->pass(t0);
  int reloads = reloader.calls;
  dropUserSet(t0, hours(24 * 90), "other.test");
  auto refused = lineage->pass(t0 + seconds(1));
  EXPECT_TRUE(logged("user_cert_refused"));
  EXPECT_EQ(refused.live->serial, first.live->serial);  // the set in place stays
  EXPECT_EQ(reloader.calls, reloads + 1);
  lineage->pass(t0 + seconds(2));
  EXPECT_EQ(reloader.calls, reloads + 1);  // once, not every pass
}

TEST_F(LineageTest, AnExpiringUserSetIsFollowedAtItsExpiryByAnAcmeSetObtainedAheadWithOneReload) {
  acme.failing = true;
  lineage->pass(t0);  // self-signed: no ACME set to keep in reserve
  acme.failing = false;
  dropUserSet(t0, hours(24 * 90));
  lineage->pass(t0 + seconds(1));
  ASSERT_EQ(lineage->pass(t0 + hours(1)).live->source, "user");
  auto calls = acme.calls.size();
  auto ahead = lineage->pass(t0 + 65 * kDay);
  EXPECT_EQ(acme.calls.size(), calls + 1);  // obtained ahead...
  EXPECT_EQ(ahead.live->source, "user");    // ...and held: the user's still serves
  EXPECT_TRUE(logged("cert_held"));
  EXPECT_EQ(lineage->pass(t0 + 66 * kDay).live->source, "user");
  EXPECT_EQ(acme.calls.size(), calls + 1);  // held once, not ordered again
  int reloads = reloader.calls;
  auto last = lineage->pass(t0 + 89 * kDay + hours(12));
  EXPECT_EQ(last.nextCheck, t0 + 90 * kDay);  // the swap is at the user's expiry, to the second
  events.clear();
  auto swapped = lineage->pass(last.nextCheck);
  EXPECT_EQ(swapped.live->source, "acme");
  EXPECT_EQ(acme.calls.size(), calls + 1);
  EXPECT_EQ(reloader.calls, reloads + 1);  // one reload, no self-signed set in between
  EXPECT_FALSE(logged("source=self-signed"));
  EXPECT_TRUE(logged("obtained ahead takes over"));
}

TEST_F(LineageTest, AStillValidAcmeSetTheUserSetReplacedTakesOverAtOnceWhenItEnds) {
  lineage->pass(t0);  // ACME, valid 90 days
  dropUserSet(t0, hours(24 * 10));
  ASSERT_EQ(lineage->pass(t0 + seconds(1)).live->source, "user");
  auto calls = acme.calls.size();
  EXPECT_EQ(lineage->pass(t0 + 8 * kDay).live->source, "user");
  EXPECT_EQ(acme.calls.size(), calls);  // the set in reserve outlives the user's: no order
  auto swapped = lineage->pass(t0 + 10 * kDay);
  EXPECT_EQ(swapped.live->source, "acme");
  EXPECT_EQ(acme.calls.size(), calls);
}

TEST_F(LineageTest, AnExpiredUserSetWithNoCaAnsweringFallsBackToSelfSigned) {
  lineage->pass(t0);
  dropUserSet(t0, hours(24 * 90));
  lineage->pass(t0 + seconds(1));
  acme.failing = true;
  auto expired = lineage->pass(t0 + 151 * kDay);  // the reserve set (t0 + 90 days) ended too
  EXPECT_EQ(expired.live->source, "self-signed");
  EXPECT_TRUE(logged("the user certificate is no longer usable: the certificate expired"));
  EXPECT_TRUE(logged("fallback_self_signed"));
}

TEST_F(LineageTest, AFailedReloadIsRetriedByTheNextPassWithoutAChange) {
  reloader.failing = true;
  auto r = lineage->pass(t0);
  EXPECT_EQ(reloader.calls, 1);
  EXPECT_EQ(r.nextCheck, t0 + decide::kRetryUnusable);
  EXPECT_TRUE(logged("reload_failed"));
  reloader.failing = false;
  auto again = lineage->pass(t0 + decide::kRetryUnusable);
  EXPECT_FALSE(again.changed);
  EXPECT_EQ(reloader.calls, 2);
  lineage->pass(t0 + 2 * decide::kRetryUnusable);
  EXPECT_EQ(reloader.calls, 2);  // told once, not again
}

TEST_F(LineageTest, ChangedNamesMakeOurSetUnusableAndItIsReissued) {
  lineage->pass(t0);
  app::Policy p;
  p.names = p.requiredNames = {"a.test", "b.test"};
  app::Lineage wider(p, volume, state, {&acme, &selfSigned}, reloader, clock);
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
  EXPECT_EQ(planned.nextCheck, t0 + kDay + decide::kAriDefaultRetry);  // no Retry-After: asked again in 6 hours
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
  auto s = lineage->pass(t0 + kDay + hours(1));
  EXPECT_EQ(s.nextCheck, t0 + kDay + hours(6));  // not asked before its Retry-After: remembered
  auto u = lineage->pass(t0 + 2 * kDay);
  EXPECT_EQ(u.nextCheck, t0 + 2 * kDay + decide::kAriDefaultRetry);  // asked, and it says day 3, later
}

TEST_F(LineageTest, AriIsAskedOnlyWhenItsRetryAfterSaysEvenAcrossRestartsAndManyPasses) {
  lineage->pass(t0);
  int asked = 0;
  struct CountingHint : FakeIssuer {
    using FakeIssuer::FakeIssuer;
    int* asked = nullptr;
    std::optional<sources::RenewalHint> renewalHint(const store::CertFiles& f, TimePoint now, milliseconds limit) override {
      ++*asked;
      return FakeIssuer::renewalHint(f, now, limit);
    }
  };
  CountingHint ca(store::Source::Acme);
  ca.asked = &asked;
  ca.hint = sources::RenewalHint{t0 + 50 * kDay, t0 + 6 * kDay};  // a Retry-After of five days: a day at most
  for (int restart = 0; restart < 3; ++restart) {
    app::Lineage fresh(lineage->policy(), volume, state, {&ca, &selfSigned}, reloader, clock);
    for (int i = 0; i < 100; ++i) fresh.pass(t0 + kDay + minutes(restart * 100 + i));
  }
  EXPECT_EQ(asked, 1);
  app::Lineage later(lineage->policy(), volume, state, {&ca, &selfSigned}, reloader, clock);
  later.pass(t0 + 2 * kDay + minutes(1));  // the day it was clamped to has passed
  EXPECT_EQ(asked, 2);
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
  EXPECT_EQ(state.load().ledgers.at("acme").failures, 0);  // success clears it
}

TEST_F(LineageTest, ACertificateForOtherNamesIsNeverPublishedAndTheRetriesBackOff) {
  lineage->pass(t0);  // a good one first
  auto good = lineage->pass(t0).live->serial;
  acme.issuedNames = {"other.test"};
  int reloads = reloader.calls;
  // Renewal is due from day 60: an hour of passes, once a second, as a storm would.
  for (int i = 0; i < 3600; ++i) lineage->pass(t0 + 61 * kDay + seconds(i));
  EXPECT_EQ(acme.calls.size(), 1u + 3u);  // the first, then due at once, again 1 and 10 minutes after each failure
  auto r = lineage->pass(t0 + 61 * kDay + minutes(60));
  EXPECT_EQ(r.live->serial, good);  // the valid set stayed; nothing unusable reached the gateway
  EXPECT_EQ(reloader.calls, reloads);
  EXPECT_TRUE(logged("cert_unusable"));
  EXPECT_TRUE(logged("does not cover a.test"));
  EXPECT_TRUE(std::filesystem::exists(dir.path("aside")));
}

TEST_F(LineageTest, NoMoreThanFiveOrdersAWeekWhateverAsksForThem) {
  acme.lifetime = hours(3);  // a certificate due every two hours
  lineage->pass(t0);
  for (int h = 1; h < 24 * 7; ++h) lineage->pass(t0 + hours(h));
  EXPECT_EQ(acme.calls.size(), 5u);
  EXPECT_TRUE(logged("order_deferred"));
  EXPECT_TRUE(logged("the order budget is spent"));
  lineage->pass(t0 + 7 * kDay);  // the first order left the window
  EXPECT_EQ(acme.calls.size(), 6u);
}

TEST_F(LineageTest, ARenewalMarginLongerThanTheLifetimeBecomesAThirdOfIt) {
  app::Policy p = lineage->policy();
  p.renewBefore = 30 * kDay;
  acme.lifetime = 6 * kDay;  // Let's Encrypt's shortlived profile
  app::Lineage shortLived(p, volume, state, {&acme, &selfSigned}, reloader, clock);
  auto first = shortLived.pass(t0);
  EXPECT_EQ(acme.calls.size(), 1u);
  auto lifetime = first.live->notAfter - first.live->notBefore;
  EXPECT_EQ(first.nextCheck, first.live->notAfter - lifetime / 3);  // renewed with a third (two days) left
  for (int i = 1; i < 120; ++i) shortLived.pass(t0 + seconds(i));
  EXPECT_EQ(acme.calls.size(), 1u);
  EXPECT_EQ(std::count_if(events.begin(), events.end(),
                          [](const std::string& e) { return e.find("renew_before_too_long") != std::string::npos; }),
            1);
}

TEST_F(LineageTest, ARetryCountsFromTheEndOfAnAttemptThatTookLong) {
  acme.clock = &clock;
  acme.takes = minutes(5);
  acme.failing = true;
  app::Lineage slow(lineage->policy(), volume, state, {&acme, &selfSigned}, reloader, clock);
  auto r = slow.pass(t0);
  EXPECT_EQ(r.nextCheck, t0 + minutes(5) + minutes(1));
  slow.pass(t0 + minutes(5));
  EXPECT_EQ(acme.calls.size(), 1u);
}

TEST_F(LineageTest, AHeldSetThatTookOverLeavesTheReserveEvenAfterOtherChangesInThePass) {
  lineage->pass(t0);  // ACME
  dropUserSet(t0, hours(24 * 10));
  ASSERT_EQ(lineage->pass(t0 + seconds(1)).live->source, "user");
  ASSERT_TRUE(fs.kind(dir.path("state/held/gw/meta.json")).value() == store::EntryKind::File);
  std::filesystem::remove(dir.path("live/gw"));  // the link gone too: put back first, in the same pass
  auto r = lineage->pass(t0 + 10 * kDay);
  EXPECT_EQ(r.live->source, "acme");
  EXPECT_EQ(fs.kind(dir.path("state/held/gw/meta.json")).value(), store::EntryKind::Missing);
}
