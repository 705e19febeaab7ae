// HTTP-01 by files in the gateway's webroot (store/webroot.h, sources/webroot_solver.h):
// written atomically and readable by the gateway, removed after, never through a
// link planted in the shared folder, never under a name the CA's token could abuse,
// and what a crash left removed by the next run.
#include "store/webroot.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <map>

#include "faulty_fs.h"
#include "sources/webroot_solver.h"
#include "store/posix_fs.h"
#include "test_support.h"

using namespace sc;
namespace fs = std::filesystem;

namespace {

const std::string kToken = "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0";
const std::string kKeyAuth = kToken + ".9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI";
const std::string kOther = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA";

struct WebrootFixture : ::testing::Test {
  TempDir tmp;
  std::string web = tmp.path("web"), state = tmp.path("state"), outside = tmp.path("outside");
  store::PosixFileSystem posix{{web, state}};  // the outside folder is no root
  std::string record = state + "/webroot-gw.tokens";
  std::string challenges = web + "/.well-known/acme-challenge";

  void SetUp() override {
    fs::create_directories(state);
    fs::create_directories(outside);
  }
  store::Webroot webroot(store::FileSystem& f) { return store::Webroot(f, web, record); }
  std::vector<std::string> namesIn(const std::string& dir) {
    std::vector<std::string> out;
    if (fs::is_directory(fs::symlink_status(dir)))
      for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
    return out;
  }
};

TEST_F(WebrootFixture, WritesTheTokenReadableByTheGatewayWithNothingElseLeftInTheFolder) {
  auto w = webroot(posix);
  ASSERT_TRUE(w.write(kToken, kKeyAuth)) << w.write(kToken, kKeyAuth).error().message;
  EXPECT_EQ(tmp.read("web/.well-known/acme-challenge/" + kToken), kKeyAuth);
  struct stat st {};
  ASSERT_EQ(::stat((challenges + "/" + kToken).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);  // whatever the umask: the gateway's user reads it
  ASSERT_EQ(::stat(challenges.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u);
  EXPECT_EQ(namesIn(challenges), std::vector<std::string>{kToken});  // no temporary file left
  EXPECT_EQ(tmp.read("state/webroot-gw.tokens"), kToken + "\n");
}

TEST_F(WebrootFixture, ReplacesAnEntryAtTheTokensNameInsteadOfWritingThroughIt) {
  fs::create_directories(challenges);
  std::string victim = tmp.write("outside/victim", "precious");
  fs::create_hard_link(victim, challenges + "/" + kToken);  // same file system: a hard link to outside
  fs::create_symlink(victim, challenges + "/.sidecert-" + kToken + ".tmp");
  auto w = webroot(posix);
  ASSERT_TRUE(w.write(kToken, kKeyAuth));
  EXPECT_EQ(tmp.read("outside/victim"), "precious");
  EXPECT_EQ(tmp.read("web/.well-known/acme-challenge/" + kToken), kKeyAuth);
  EXPECT_EQ(fs::hard_link_count(victim), 1u);
}

TEST_F(WebrootFixture, RemovesTheTokenAndStrikesItFromTheRecord) {
  auto w = webroot(posix);
  ASSERT_TRUE(w.write(kToken, kKeyAuth));
  ASSERT_TRUE(w.write(kOther, kOther + ".x"));
  ASSERT_TRUE(w.remove(kToken));
  EXPECT_EQ(namesIn(challenges), std::vector<std::string>{kOther});
  EXPECT_EQ(tmp.read("state/webroot-gw.tokens"), kOther + "\n");
  ASSERT_TRUE(w.remove(kOther));
  EXPECT_TRUE(namesIn(challenges).empty());
  EXPECT_FALSE(fs::exists(record));          // an empty record is no file
  EXPECT_TRUE(w.remove(kOther).has_value());  // already gone: fine
}

TEST_F(WebrootFixture, RefusesALinkPlantedAtWellKnownNamingItAndWritesNothingOutside) {
  fs::create_directories(web);
  fs::create_directory_symlink(outside, web + "/.well-known");
  auto w = webroot(posix);
  auto written = w.write(kToken, kKeyAuth);
  ASSERT_FALSE(written);
  EXPECT_NE(written.error().message.find(web + "/.well-known is a symbolic link (to " + outside + ")"), std::string::npos)
      << written.error().message;
  EXPECT_TRUE(namesIn(outside).empty());
  EXPECT_FALSE(fs::exists(record));
  EXPECT_FALSE(w.prepare());  // before an order too
}

TEST_F(WebrootFixture, RefusesALinkPlantedAtAcmeChallengeAndWritesNothingOutside) {
  fs::create_directories(web + "/.well-known");
  fs::create_directory_symlink(outside, challenges);
  auto w = webroot(posix);
  auto written = w.write(kToken, kKeyAuth);
  ASSERT_FALSE(written);
  EXPECT_NE(written.error().message.find(challenges + " is a symbolic link"), std::string::npos)
      << written.error().message;
  EXPECT_TRUE(namesIn(outside).empty());
}

TEST_F(WebrootFixture, RefusesATokenThatIsNotBase64UrlBeforeItBecomesAFileName) {
  auto w = webroot(posix);
  for (const std::string& bad : std::vector<std::string>{"../../outside/x", "a/b", ".hidden", "tok.en", "", "t\noken",
                                                          std::string(257, 'a')}) {
    auto written = w.write(bad, kKeyAuth);
    ASSERT_FALSE(written) << bad;
    EXPECT_NE(written.error().message.find("not base64url"), std::string::npos) << written.error().message;
  }
  EXPECT_TRUE(namesIn(outside).empty());
  EXPECT_TRUE(namesIn(challenges).empty());
  EXPECT_FALSE(fs::exists(record));
}

// A crash at every single step of a write: the next run's removeLeftovers leaves
// the folder as it was, and never removes a token another client put there.
TEST_F(WebrootFixture, LeftoversOfACrashAtAnyStepAreRemovedAndOthersTokensKept) {
  FaultyFs counting;
  ASSERT_TRUE(webroot(counting).write(kToken, kKeyAuth));
  const int steps = counting.changes;
  ASSERT_GE(steps, 5);
  for (int crashAt = 1; crashAt <= steps + 1; ++crashAt) {
    fs::remove_all(web);
    fs::remove(record);
    tmp.write("web/.well-known/acme-challenge/" + kOther, "certbot's");
    FaultyFs crashing;
    crashing.mode = FaultyFs::Mode::CrashAt;
    crashing.target = crashAt;
    (void)webroot(crashing).write(kToken, kKeyAuth);  // fails from crashAt on: the process died there
    auto present = tmp.read("web/.well-known/acme-challenge/" + kToken);
    EXPECT_TRUE(present.empty() || present == kKeyAuth) << "half a token at step " << crashAt;
    ASSERT_TRUE(webroot(posix).removeLeftovers()) << crashAt;
    EXPECT_EQ(namesIn(challenges), std::vector<std::string>{kOther}) << "after a crash at step " << crashAt;
    EXPECT_FALSE(fs::exists(record)) << crashAt;
  }
}

// present() again after a wait writes the token again: the CA may be fetching it
// then, so at no step of the rewrite is the served file missing or partial.
TEST_F(WebrootFixture, ARewriteNeverTakesTheServedFileAwayAtAnyStep) {
  FaultyFs counting;
  ASSERT_TRUE(webroot(counting).write(kToken, kKeyAuth));
  const int steps = counting.changes;
  for (int crashAt = 1; crashAt <= steps; ++crashAt) {
    FaultyFs crashing;
    crashing.mode = FaultyFs::Mode::CrashAt;
    crashing.target = crashAt;
    (void)webroot(crashing).write(kToken, kKeyAuth);
    EXPECT_EQ(tmp.read("web/.well-known/acme-challenge/" + kToken), kKeyAuth) << "after a crash at step " << crashAt;
  }
}

class RecordingResponder final : public acme::ChallengePublisher {
 public:
  void publish(const std::string& t, const std::string& k) override { served[t] = k; }
  void withdraw(const std::string& t) override { served.erase(t); }
  std::map<std::string, std::string> served;
};

acme::ChallengeTask taskFor(const std::string& token, const std::string& keyAuth) {
  acme::ChallengeTask t;
  t.identifier = "example.test";
  t.challenge.token = token;
  t.keyAuthorization = keyAuth;
  return t;
}

TEST_F(WebrootFixture, SolverWritesBesideTheResponderAndRemovesBothAfter) {
  RecordingResponder responder;
  sources::WebrootSolver solver(webroot(posix), &responder, nullptr);
  ASSERT_TRUE(solver.readyToOrder({"example.test"}, "", {}));
  EXPECT_TRUE(fs::is_directory(challenges));
  ASSERT_TRUE(solver.present({taskFor(kToken, kKeyAuth), taskFor(kOther, kOther + ".x")}));
  EXPECT_EQ(tmp.read("web/.well-known/acme-challenge/" + kOther), kOther + ".x");
  EXPECT_EQ(responder.served.size(), 2u);
  solver.cleanUp();
  EXPECT_TRUE(namesIn(challenges).empty());
  EXPECT_TRUE(responder.served.empty());
  EXPECT_FALSE(fs::exists(record));
}

TEST_F(WebrootFixture, SolverRemovesWhatItWroteWhenALaterTokenFails) {
  sources::WebrootSolver solver(webroot(posix), nullptr, nullptr);
  ASSERT_FALSE(solver.present({taskFor(kToken, kKeyAuth), taskFor("bad/token", "x")}));
  EXPECT_EQ(namesIn(challenges), std::vector<std::string>{kToken});
  solver.cleanUp();  // the caller's answer to a failed present()
  EXPECT_TRUE(namesIn(challenges).empty());
}

TEST_F(WebrootFixture, SolverTidyUpRemovesWhatAnEarlierRunLeft) {
  ASSERT_TRUE(webroot(posix).write(kToken, kKeyAuth));  // a run that died before its cleanUp
  sources::WebrootSolver solver(webroot(posix), nullptr, nullptr);
  solver.tidyUp();
  EXPECT_TRUE(namesIn(challenges).empty());
}

}  // namespace
