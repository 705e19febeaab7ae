#include "log/log.h"

#include <gtest/gtest.h>

#include <Poco/JSON/Parser.h>

using namespace sc;

TEST(Log, TextIsOneLineWithQuotedValuesWhereNeeded) {
  auto line = log::formatText("2026-01-01T00:00:00.000Z", LogLevel::Warn, "user_cert_refused",
                              {{"name", "gw"}, {"reason", "it \"expired\"\non"}, {"days_left", 3}, {"ok", false}});
  EXPECT_EQ(line, "2026-01-01T00:00:00.000Z warn  user_cert_refused name=gw reason=\"it \\\"expired\\\"\\non\" days_left=3 ok=false");
}

TEST(Log, JsonIsOneObjectWithTsLevelEventAndTypedFields) {
  auto line = log::formatJson("2026-01-01T00:00:00.000Z", LogLevel::Info, "cert_issued",
                              {{"names", "a.test,b.test"}, {"days_left", 89}, {"renewed", true}, {"reason", "a\nb"}});
  EXPECT_EQ(line.find('\n'), std::string::npos);
  auto obj = Poco::JSON::Parser().parse(line).extract<Poco::JSON::Object::Ptr>();
  EXPECT_EQ(obj->getValue<std::string>("ts"), "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(obj->getValue<std::string>("level"), "info");
  EXPECT_EQ(obj->getValue<std::string>("event"), "cert_issued");
  EXPECT_EQ(obj->getValue<int>("days_left"), 89);
  EXPECT_TRUE(obj->getValue<bool>("renewed"));
  EXPECT_EQ(obj->getValue<std::string>("reason"), "a\nb");
}

TEST(Log, EventsBelowTheLevelAreDropped) {
  std::vector<std::string> seen;
  log::captureForTests([&](const std::string& l) { seen.push_back(l); });
  log::setup(LogFormat::Json, LogLevel::Warn);
  log::info("quiet");
  log::warn("loud");
  log::captureForTests(nullptr);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_NE(seen[0].find("\"event\":\"loud\""), std::string::npos);
}
