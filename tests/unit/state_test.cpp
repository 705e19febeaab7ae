#include <gtest/gtest.h>

#include <sys/stat.h>

#include "core/time_format.h"
#include "faulty_fs.h"
#include "store/posix_fs.h"
#include "store/state.h"
#include "test_support.h"

using namespace sc;
using std::chrono::hours;

namespace {

const TimePoint t0 = fromUnixSeconds(1'800'000'000);

store::LineageState fullState(TimePoint at) {
  store::LineageState s;
  s.nextCheck = at;
  s.reloadPending = true;
  auto& l = s.ledgers["https://ca.test/dir"];
  l.orders = {at - hours(2), at - hours(1)};
  l.failures = 3;
  l.retryAt = at + hours(4);
  l.lastError = "rateLimited: too many";
  s.pendingOrder = store::PendingOrder{"https://ca.test/dir", "https://ca.test/order/1", {"a.test", "b.test"}, "KEY"};
  s.ari = store::AriMemory{"set-000001", at + hours(24), at + hours(6)};
  s.lastExpiryWarning = at - hours(3);
  return s;
}

void expectSame(const store::LineageState& a, const store::LineageState& b) {
  EXPECT_EQ(a.nextCheck, b.nextCheck);
  EXPECT_EQ(a.reloadPending, b.reloadPending);
  ASSERT_EQ(a.ledgers.size(), b.ledgers.size());
  for (const auto& [id, l] : a.ledgers) {
    const auto& m = b.ledgers.at(id);
    EXPECT_EQ(l.orders, m.orders);
    EXPECT_EQ(l.failures, m.failures);
    EXPECT_EQ(l.retryAt, m.retryAt);
    EXPECT_EQ(l.lastError, m.lastError);
  }
  ASSERT_EQ(a.pendingOrder.has_value(), b.pendingOrder.has_value());
  if (a.pendingOrder) {
    EXPECT_EQ(a.pendingOrder->url, b.pendingOrder->url);
    EXPECT_EQ(a.pendingOrder->names, b.pendingOrder->names);
    EXPECT_EQ(a.pendingOrder->keyPem, b.pendingOrder->keyPem);
  }
  EXPECT_EQ(a.lastExpiryWarning, b.lastExpiryWarning);
  ASSERT_EQ(a.ari.has_value(), b.ari.has_value());
  if (a.ari) {
    EXPECT_EQ(a.ari->setId, b.ari->setId);
    EXPECT_EQ(a.ari->renewAt, b.ari->renewAt);
    EXPECT_EQ(a.ari->askAgainAt, b.ari->askAgainAt);
  }
}

}  // namespace

TEST(StateStore, WhatIsSavedIsLoadedBackPrivately) {
  TempDir dir;
  store::PosixFileSystem fs;
  store::StateStore states(fs, dir.path(), "gw");
  EXPECT_FALSE(states.load().nextCheck);  // no file yet: an empty state
  auto saved = fullState(t0);
  ASSERT_TRUE(states.save(saved));
  expectSame(saved, states.load());
  struct stat st {};
  ASSERT_EQ(::stat(dir.path("state-gw.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);  // a pending order's key is in it
}

TEST(StateStore, TimesUpToTheLastSecondOf9999RoundTrip) {
  TempDir dir;
  store::PosixFileSystem fs;
  store::StateStore states(fs, dir.path(), "gw");
  auto saved = fullState(latestTime() - hours(48));
  ASSERT_TRUE(states.save(saved));
  expectSame(saved, states.load());
  EXPECT_NE(dir.read("state-gw.json").find("9999-12-30T"), std::string::npos);
}

TEST(StateStore, AHostileFileIsReadAsLittleAsItSaysAndNothingOverflows) {
  TempDir dir;
  store::PosixFileSystem fs;
  store::StateStore states(fs, dir.path(), "gw");
  dir.write("state-gw.json", R"({"next_check":"99999-01-01T00:00:00Z","reload_pending":"yes",
    "ledgers":{"ca":{"orders":["0001-01-01T00:00:00Z","2030-01-01T00:00:00Z",7,"garbage"],
                     "failures":99999999999999,"retry_at":"9999-12-31T23:59:59Z"},
               "other":[1,2]},
    "pending_order":{"ca":"x","url":"","names":["a"],"key":"K"},
    "ari":{"set":"set-000001","renew_at":12}})");
  auto s = states.load();
  EXPECT_FALSE(s.nextCheck);
  EXPECT_FALSE(s.reloadPending);
  ASSERT_EQ(s.ledgers.size(), 1u);
  const auto& l = s.ledgers.at("ca");
  EXPECT_EQ(l.orders, (std::vector<TimePoint>{earliestTime(), *parseTime("2030-01-01T00:00:00Z")}));
  EXPECT_EQ(l.failures, 1000);
  EXPECT_EQ(l.retryAt, latestTime());
  EXPECT_FALSE(s.pendingOrder);  // no url: nothing to resume
  EXPECT_FALSE(s.ari);           // no ask_again_at: nothing remembered
  for (const char* junk : {"", "[]", "null", "{", "\"text\"", "{\"ledgers\":{\"ca\":{\"orders\":\"x\"}}}"}) {
    dir.write("state-gw.json", junk);
    EXPECT_FALSE(states.load().nextCheck) << junk;
  }
}

TEST(StateStore, AFailedSaveLeavesThePreviousStateWhole) {
  TempDir dir;
  store::PosixFileSystem real;
  ASSERT_TRUE(store::StateStore(real, dir.path(), "gw").save(fullState(t0)));
  FaultyFs counting;
  ASSERT_TRUE(store::StateStore(counting, dir.path(), "gw").save(fullState(t0 + hours(1))));
  const int steps = counting.changes;
  for (int n = 1; n <= steps; ++n) {
    ASSERT_TRUE(store::StateStore(real, dir.path(), "gw").save(fullState(t0)));
    FaultyFs fs;
    fs.mode = FaultyFs::Mode::FailOne;
    fs.target = n;
    (void)store::StateStore(fs, dir.path(), "gw").save(fullState(t0 + hours(1)));
    auto after = store::StateStore(real, dir.path(), "gw").load();
    ASSERT_TRUE(after.nextCheck) << "step " << n;
    // Either the old state or the new one, never a torn or empty file.
    EXPECT_TRUE(*after.nextCheck == t0 || *after.nextCheck == t0 + hours(1)) << "step " << n;
  }
}
