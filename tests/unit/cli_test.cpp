#include "app/cli.h"

#include <gtest/gtest.h>

using sc::app::parseCommandLine;

namespace {
sc::Result<sc::app::CommandLine> parse(std::vector<std::string> args) {
  args.insert(args.begin(), "sidecert");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return parseCommandLine(static_cast<int>(argv.size()), argv.data());
}
}  // namespace

TEST(Cli, CommandsAndFlags) {
  auto s = parse({"status", "--json", "--config", "/etc/sidecert.yml"});
  ASSERT_TRUE(s);
  EXPECT_EQ(s->command, "status");
  EXPECT_TRUE(s->json);
  EXPECT_EQ(*s->configFile, "/etc/sidecert.yml");
  auto r = parse({"revoke", "--reason=4"});
  ASSERT_TRUE(r);
  EXPECT_EQ(*r->reason, "4");
}

TEST(Cli, MistakesNameTheWordThatWasWrong) {
  EXPECT_EQ(parse({"stauts"}).error().message, "unknown command 'stauts'");
  EXPECT_EQ(parse({"run", "--verbose"}).error().message, "unknown flag '--verbose'");
  EXPECT_EQ(parse({"run", "extra"}).error().message, "unexpected argument 'extra'");
  EXPECT_EQ(parse({"once", "--json"}).error().message, "--json goes with status only");
  EXPECT_EQ(parse({"run", "--config"}).error().message, "--config needs a value");
  EXPECT_EQ(parse({}).error().message, "no command given");
}
