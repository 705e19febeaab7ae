// The Runtime keeps the gateway views: after each publish, and as lineages are
// added and removed (discovery), never before the volumes are prepared.
#include <filesystem>

#include <gtest/gtest.h>

#include "app/wiring.h"
#include "core/time_format.h"
#include "test_support.h"

using namespace sc;

namespace {

const TimePoint kNow = fromUnixSeconds(1'800'000'000);

CertificateSpec specOf(const std::string& name, const std::string& domain) {
  CertificateSpec c;
  c.name = name;
  c.domains = {domain};
  return c;
}

struct ViewsWiring : ::testing::Test {
  TempDir dir;
  std::unique_ptr<app::Runtime> rt;
  void SetUp() override {
    Settings s;
    s.volume = dir.path("vol");
    s.stateDir = dir.path("state");
    std::filesystem::create_directories(s.volume);
    s.layout = Layout::NginxProxy;
    s.certificates = {specOf("a", "a.example.org")};  // no CA: self-signed sets
    auto made = app::buildRuntime(s);
    ASSERT_TRUE(made) << made.error().message;
    rt = std::move(*made);
  }
  std::string map() const { return dir.read("vol/nginx/sni.map"); }
};

}  // namespace

TEST_F(ViewsWiring, NothingIsWrittenBeforeTheVolumesArePrepared) {
  auto added = app::addLineage(*rt, specOf("b", "b.example.org"));  // as status or check-config build them
  ASSERT_TRUE(added);
  EXPECT_FALSE(std::filesystem::exists(dir.path("vol/nginx")));
  EXPECT_FALSE(std::filesystem::exists(dir.path("vol/haproxy")));
}

TEST_F(ViewsWiring, EachPublishAndEachLineageAddedOrRemovedReachesTheViews) {
  ASSERT_TRUE(rt->prepareVolumes());
  EXPECT_EQ(map().find("a.example.org a;"), std::string::npos);  // nothing published yet
  (void)rt->lineages[0]->lineage->pass(kNow);
  EXPECT_NE(map().find("a.example.org a;"), std::string::npos) << map();
  EXPECT_EQ(std::filesystem::read_symlink(dir.path("vol/a.example.org.crt")).string(), "live/a/fullchain.pem");

  auto b = app::addLineage(*rt, specOf("b", "b.example.org"));
  ASSERT_TRUE(b);
  ASSERT_TRUE((*b)->volume.prepare());
  (void)(*b)->lineage->pass(kNow);
  EXPECT_NE(map().find("b.example.org b;"), std::string::npos) << map();

  app::removeLineage(*rt, *b);  // retired: its names leave the views at once
  EXPECT_EQ(map().find("b.example.org"), std::string::npos) << map();
  EXPECT_FALSE(std::filesystem::is_symlink(dir.path("vol/b.example.org.crt")));

  // A lineage added back whose set is still in live/b is served at once, before any pass.
  auto again = app::addLineage(*rt, specOf("b", "b.example.org"));
  ASSERT_TRUE(again);
  EXPECT_NE(map().find("b.example.org b;"), std::string::npos) << map();
}

TEST_F(ViewsWiring, ALineageARoundLeftOutComesBackWithItsNextPublish) {
  ASSERT_TRUE(rt->prepareVolumes());
  auto& a = *rt->lineages[0];
  (void)a.lineage->pass(kNow);
  ASSERT_NE(map().find("a.example.org a;"), std::string::npos) << map();
  // Someone removes live/a; a round made meanwhile (another lineage arrives) leaves it out.
  std::filesystem::remove(dir.path("vol/live/a"));
  ASSERT_TRUE(a.volume.inspect());
  auto b = app::addLineage(*rt, specOf("b", "b.example.org"));
  ASSERT_TRUE(b);
  ASSERT_EQ(map().find("a.example.org a;"), std::string::npos) << map();
  // Its next pass puts a set back in live/a: the views hold it again.
  (void)a.lineage->pass(kNow + std::chrono::minutes(1));
  ASSERT_TRUE(std::filesystem::is_symlink(dir.path("vol/live/a")));
  EXPECT_NE(map().find("a.example.org a;"), std::string::npos) << map();
}
