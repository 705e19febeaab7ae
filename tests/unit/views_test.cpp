// The gateway views (store/gateway_views.h, store/views.h): what nginx, HAProxy
// and nginx-proxy's template read to serve every lineage by name.
#include "store/views.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "core/time_format.h"
#include "lineage_fixture.h"
#include "store/posix_fs.h"
#include "store/volume.h"
#include "test_support.h"

using namespace sc;
using store::LineageEntry;
namespace fs = std::filesystem;

namespace {

const TimePoint t1 = t0;  // lineage_fixture.h's

std::vector<LineageEntry> threeLineages() {
  return {{"a", {"a.example.org", "www.a.example.org"}, true},
          {"w", {"*.example.org"}, true},
          {"default", {"localhost"}, true}};
}

// A volume under vol/ with published sets, beside a folder outside/ that nothing
// may touch; the file system is confined to vol/ and state/, as in production.
struct ViewsTest : ::testing::Test {
  TempDir dir;
  store::PosixFileSystem fs{{dir.path("vol"), dir.path("state")}};
  std::vector<std::string> events;

  void SetUp() override {
    fs::create_directories(dir.path("vol"));
    dir.write("outside/secret", "untouched\n");
    log::captureForTests([this](const std::string& line) { events.push_back(line); });
    log::setup(LogFormat::Text, LogLevel::Debug);
  }
  void TearDown() override { log::captureForTests(nullptr); }
  void publish(const std::string& name, const std::string& tag) {
    store::Volume v{fs, dir.path("vol"), dir.path("state"), name};
    ASSERT_TRUE(v.prepare());
    ASSERT_TRUE(v.publish({"KEY " + tag + "\n", "CERT\n", "CHAIN " + tag + "\n", "FULL " + tag + "\n"},
                          store::Source::SelfSigned, t1));
  }
  std::string vol(const std::string& rel) const { return dir.path("vol/" + rel); }
  std::string linkAt(const std::string& rel) const {
    return fs::is_symlink(vol(rel)) ? fs::read_symlink(vol(rel)).string() : "";
  }
  int count(const std::string& text) const {
    return static_cast<int>(std::count_if(events.begin(), events.end(),
                                          [&](const std::string& e) { return e.find(text) != std::string::npos; }));
  }
};

// A kept file's lines less its comments.
std::string entries(const std::string& text) {
  std::string out, line;
  std::istringstream in(text);
  while (std::getline(in, line))
    if (line.rfind("#", 0) != 0) out += line + "\n";
  return out;
}

}  // namespace

TEST(GatewayViews, TheSniMapSendsEachNameToItsLineageAndUnknownNamesToTheDefault) {
  auto lineages = threeLineages();
  lineages.push_back({"late", {"late.example.org"}, false});        // nothing published yet
  lineages.push_back({"twice", {"a.example.org", "B.example.org"}, true});  // a.example.org is a's
  lineages.push_back({"odd", {"x;y", "a/../b", "::1", "10.0.0.1", "c d"}, true});
  std::string map = store::nginxSniMap(lineages);
  EXPECT_EQ(map.rfind(store::kKeptHeader, 0), 0u);
  EXPECT_NE(map.find("\nhostnames;\ndefault default;\n"), std::string::npos) << map;
  EXPECT_NE(map.find("\na.example.org a;\n"), std::string::npos);
  EXPECT_NE(map.find("\nwww.a.example.org a;\n"), std::string::npos);
  EXPECT_NE(map.find("\n*.example.org w;\n"), std::string::npos);
  EXPECT_NE(map.find("\nb.example.org twice;\n"), std::string::npos);  // lower case
  EXPECT_EQ(map.find("a.example.org twice"), std::string::npos);       // claimed once: nginx refuses duplicates
  EXPECT_EQ(map.find("late"), std::string::npos);
  for (const char* bad : {"x;y", "a/../b", "::1", "10.0.0.1", "c d"}) EXPECT_EQ(map.find(bad), std::string::npos) << bad;
}

TEST(GatewayViews, TheDefaultIsTheLineageNamedDefaultElseTheFirstPublished) {
  EXPECT_EQ(store::defaultLineage(threeLineages()), "default");
  EXPECT_EQ(store::defaultLineage({{"a", {"a.test"}, false}, {"b", {"b.test"}, true}}), "b");
  EXPECT_EQ(store::defaultLineage({{"default", {"x.test"}, false}, {"b", {"b.test"}, true}}), "b");
  EXPECT_EQ(store::defaultLineage({{"a", {"a.test"}, false}}), "");
  EXPECT_EQ(store::defaultLineage({{"../up", {"a.test"}, true}}), "");  // never a path out of live/
}

TEST(GatewayViews, TheCrtListPutsTheDefaultFirstAndEachLineageWithItsNames) {
  std::string list = store::haproxyCrtList(threeLineages());
  auto first = list.find("\nlive/");
  ASSERT_NE(first, std::string::npos);
  EXPECT_EQ(list.substr(first + 1, list.find('\n', first + 1) - first - 1), "live/default/combined.pem localhost");
  EXPECT_NE(list.find("\nlive/a/combined.pem a.example.org www.a.example.org\n"), std::string::npos) << list;
  EXPECT_NE(list.find("\nlive/w/combined.pem *.example.org\n"), std::string::npos);
  // A lineage whose every name is another's serves none: no line, or HAProxy would
  // index it under the names in its certificate.
  auto shadowed = threeLineages();
  shadowed.push_back({"copy", {"a.example.org"}, true});
  EXPECT_EQ(store::haproxyCrtList(shadowed).find("live/copy/"), std::string::npos);
}

TEST(GatewayViews, NginxProxyFindsAWildcardAsItsParentAndAnExactNameFirst) {
  auto links = store::nginxProxyLinks(threeLineages());
  EXPECT_EQ(links["a.example.org.crt"], "live/a/fullchain.pem");
  EXPECT_EQ(links["a.example.org.key"], "live/a/privkey.pem");
  EXPECT_EQ(links["a.example.org.chain.pem"], "live/a/chain.pem");
  EXPECT_EQ(links["example.org.crt"], "live/w/fullchain.pem");  // nginx-proxy's parent-domain lookup
  EXPECT_EQ(links["default.crt"], "live/default/fullchain.pem");
  EXPECT_EQ(links["default.key"], "live/default/privkey.pem");
  EXPECT_EQ(links.count("default.chain.pem"), 0u);  // nginx-proxy reads no chain for the default
  auto exact = threeLineages();
  exact.push_back({"apex", {"example.org"}, true});
  EXPECT_EQ(store::nginxProxyLinks(exact)["example.org.crt"], "live/apex/fullchain.pem");
}

TEST_F(ViewsTest, NginxProxyLinksAreRelativeAndReachTheLiveSet) {
  publish("a", "a1");
  publish("w", "w1");
  publish("default", "d1");
  store::Views views(fs, vol(""), {true});
  ASSERT_TRUE(views.update(threeLineages()));
  EXPECT_EQ(linkAt("a.example.org.crt"), "live/a/fullchain.pem");
  EXPECT_EQ(dir.read("vol/a.example.org.crt"), "FULL a1\n");
  EXPECT_EQ(dir.read("vol/a.example.org.key"), "KEY a1\n");
  EXPECT_EQ(dir.read("vol/www.a.example.org.chain.pem"), "CHAIN a1\n");
  EXPECT_EQ(dir.read("vol/example.org.crt"), "FULL w1\n");
  EXPECT_EQ(dir.read("vol/default.key"), "KEY d1\n");
  EXPECT_NE(dir.read("vol/nginx/sni.map").find("a.example.org a;"), std::string::npos);
  EXPECT_NE(dir.read("vol/haproxy/crt-list").find("live/w/combined.pem *.example.org"), std::string::npos);
  // A new set of a is seen through the same link: it follows live/a's swap.
  publish("a", "a2");
  EXPECT_EQ(dir.read("vol/a.example.org.crt"), "FULL a2\n");
}

TEST_F(ViewsTest, UpdatesAreIdempotentAndFollowTheListOfLineages) {
  for (auto n : {"a", "w", "default"}) publish(n, n);
  store::Views views(fs, vol(""), {true});
  ASSERT_TRUE(views.update(threeLineages()));
  auto before = fs::last_write_time(vol("nginx/sni.map"));
  struct stat linkBefore {};
  ASSERT_EQ(::lstat(vol("a.example.org.crt").c_str(), &linkBefore), 0);
  ASSERT_TRUE(views.update(threeLineages()));
  struct stat linkAfter {};
  ASSERT_EQ(::lstat(vol("a.example.org.crt").c_str(), &linkAfter), 0);
  EXPECT_EQ(linkBefore.st_ino, linkAfter.st_ino);  // not made again
  EXPECT_EQ(before, fs::last_write_time(vol("nginx/sni.map")));

  // www.a.example.org moves to w; a is gone from the list: its links go, w's stay.
  std::vector<LineageEntry> now = {{"w", {"*.example.org", "www.a.example.org"}, true}, {"default", {"localhost"}, true}};
  ASSERT_TRUE(views.update(now));
  EXPECT_EQ(linkAt("www.a.example.org.crt"), "live/w/fullchain.pem");
  EXPECT_FALSE(fs::exists(fs::symlink_status(vol("a.example.org.crt"))));
  EXPECT_FALSE(fs::exists(fs::symlink_status(vol("a.example.org.key"))));
  EXPECT_EQ(dir.read("vol/nginx/sni.map").find(" a;"), std::string::npos);
  EXPECT_TRUE(fs::is_directory(vol("live/a")));  // the set itself is not the views' to touch
  for (const auto& e : fs::directory_iterator(vol(""))) EXPECT_EQ(e.path().filename().string().find(".sidecert-tmp"), std::string::npos);
}

TEST_F(ViewsTest, AUsersOwnFilesAndLinksAreLeftAloneAndLoggedOnce) {
  for (auto n : {"a", "w", "default"}) publish(n, n);
  dir.write("vol/a.example.org.crt", "the user's own\n");
  fs::create_symlink("../outside/secret", vol("a.example.org.key"));
  fs::create_symlink("../outside/secret", vol("gone.example.org.crt"));  // not ours: never removed either
  dir.write("vol/old.example.org.key", "user's\n");                      // a view name, but a file
  dir.write("vol/nginx/sni.map", "# the user's own map\n");
  fs::create_symlink("./a.example.org/fullchain.pem", vol("www.a.example.org.crt"));  // acme-companion's
  fs::create_symlink("./old.example.org/key.pem", vol("old2.example.org.key"));      // and of no lineage now
  store::Views views(fs, vol(""), {true});
  ASSERT_TRUE(views.update(threeLineages()));
  ASSERT_TRUE(views.update(threeLineages()));
  EXPECT_EQ(dir.read("vol/a.example.org.crt"), "the user's own\n");
  EXPECT_EQ(linkAt("a.example.org.key"), "../outside/secret");
  EXPECT_EQ(linkAt("gone.example.org.crt"), "../outside/secret");
  EXPECT_EQ(dir.read("vol/old.example.org.key"), "user's\n");
  EXPECT_EQ(dir.read("outside/secret"), "untouched\n");
  EXPECT_EQ(dir.read("vol/nginx/sni.map"), "# the user's own map\n");
  EXPECT_EQ(linkAt("a.example.org.chain.pem"), "live/a/chain.pem");  // the host's other files are made
  EXPECT_EQ(linkAt("www.a.example.org.crt"), "live/a/fullchain.pem");  // acme-companion's link is taken over
  EXPECT_EQ(linkAt("old2.example.org.key"), "./old.example.org/key.pem");  // not ours to remove
  EXPECT_EQ(count("gateway_view_left_alone file=a.example.org.crt"), 1);
  EXPECT_EQ(count("gateway_view_left_alone file=a.example.org.key"), 1);
  EXPECT_EQ(count("gateway_view_left_alone file=nginx/sni.map"), 1);
}

TEST_F(ViewsTest, ALinkPlantedWhereAViewFolderGoesIsNeverWrittenThrough) {
  publish("a", "a");
  fs::create_directories(dir.path("outside/nginx"));
  fs::create_symlink("../outside/nginx", vol("nginx"));
  store::Views views(fs, vol(""), {true});
  auto r = views.update({{"a", {"a.example.org"}, true}});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("nginx"), std::string::npos) << r.error().message;
  EXPECT_TRUE(fs::is_empty(dir.path("outside/nginx")));
  // The other views are still kept.
  EXPECT_NE(dir.read("vol/haproxy/crt-list").find("live/a/combined.pem"), std::string::npos);
  EXPECT_EQ(linkAt("a.example.org.crt"), "live/a/fullchain.pem");
}

TEST_F(ViewsTest, NamesThatWouldLeaveTheVolumeMakeNothing) {
  publish("a", "a");
  store::Views views(fs, vol(""), {true});
  std::vector<LineageEntry> hostile = {{"a", {"../outside/x", "a/../../outside/y", "..", "a.example.org"}, true},
                                       {"../outside", {"b.example.org"}, true}};
  ASSERT_TRUE(views.update(hostile));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path("outside")), {}), 1);  // only secret
  std::string map = entries(dir.read("vol/nginx/sni.map"));
  EXPECT_EQ(map.find(".."), std::string::npos) << map;
  EXPECT_EQ(map.find("b.example.org"), std::string::npos);
  std::string list = entries(dir.read("vol/haproxy/crt-list"));
  EXPECT_EQ(list, "live/a/combined.pem a.example.org\n");
  for (const auto& e : fs::directory_iterator(vol(""))) {
    if (fs::is_symlink(e.symlink_status())) EXPECT_EQ(fs::read_symlink(e.path()).string().rfind("live/a/", 0), 0u);
  }
}

TEST_F(ViewsTest, TheCertbotLayoutKeepsTheGatewayFilesButMakesNoLinks) {
  for (auto n : {"a", "w", "default"}) publish(n, n);
  store::Views views(fs, vol(""), {false});
  ASSERT_TRUE(views.update(threeLineages()));
  EXPECT_FALSE(fs::exists(fs::symlink_status(vol("a.example.org.crt"))));
  EXPECT_TRUE(fs::exists(vol("nginx/sni.map")));
  EXPECT_TRUE(fs::exists(vol("haproxy/crt-list")));
}

TEST_F(ViewsTest, PassThreadsMayUpdateAtOnce) {
  for (auto n : {"a", "w", "default"}) publish(n, n);
  store::Views views(fs, vol(""), {true});
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      auto lineages = threeLineages();
      if (t % 2) lineages.pop_back();  // two lists that differ in the default's links
      for (int i = 0; i < 25; ++i)
        if (!views.update(lineages)) ++failures;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  ASSERT_TRUE(views.update(threeLineages()));
  EXPECT_EQ(dir.read("vol/default.crt"), "FULL default\n");
  EXPECT_EQ(dir.read("vol/a.example.org.crt"), "FULL a\n");
}

// Lineage's own fixture, under a name of this file's (gtest ties a suite to one fixture).
namespace {
struct AfterPublish : LineageTest {};
}  // namespace

TEST_F(AfterPublish, TheHookRunsForEachSetBeforeTheGatewayIsTold) {
  std::vector<int> reloadsSeen;
  lineage->setAfterPublish([&] { reloadsSeen.push_back(reloader.calls); });
  acme.failing = true;
  (void)lineage->pass(t0);  // the self-signed set
  ASSERT_EQ(reloadsSeen.size(), 1u);
  EXPECT_EQ(reloadsSeen[0], 0);
  acme.failing = false;
  (void)lineage->pass(t0 + hours(1));  // the CA's set
  EXPECT_EQ(reloadsSeen.size(), 2u);
}
