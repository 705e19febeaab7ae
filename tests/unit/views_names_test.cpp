// The names the gateway views accept (store/gateway_views.h) are checked by hand
// for speed; these tests hold the checks to the regular expressions they replaced,
// over generated names that sit near every edge of them.
#include <random>
#include <regex>
#include <string>

#include <gtest/gtest.h>

#include "store/gateway_views.h"

using sc::store::isViewableHost;
using sc::store::isViewableLineage;

namespace {

bool lineageByRegex(const std::string& name) {
  static const std::regex kName("[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}");
  return std::regex_match(name, kName);
}

bool hostByRegex(const std::string& name) {
  static const std::regex kIpv4("[0-9]{1,3}(\\.[0-9]{1,3}){3}");
  static const std::regex kHost("(\\*\\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
  std::string n = name;
  for (auto& c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return n.size() <= 253 && !std::regex_match(n, kIpv4) && std::regex_match(n, kHost);
}

// Names made of the characters that matter to the checks, with labels whose
// lengths cluster around the limits (1, 62-64) and totals around 253.
std::string generatedName(std::mt19937& rng) {
  static const std::string alphabet = "aZ09-_.*/ \xc3";
  static const std::string labelChars = "ab9-";
  std::uniform_int_distribution<int> shape(0, 9);
  std::string out;
  if (shape(rng) < 2) out = "*.";
  const int labels = 1 + shape(rng) % 5;
  for (int l = 0; l < labels; ++l) {
    if (l) out += '.';
    static const int lengths[] = {0, 1, 2, 3, 61, 62, 63, 64, 65, 5};
    const int len = lengths[shape(rng)];
    for (int i = 0; i < len; ++i) {
      const bool odd = shape(rng) == 0;
      const std::string& from = odd ? alphabet : labelChars;
      out += from[std::uniform_int_distribution<std::size_t>(0, from.size() - 1)(rng)];
    }
  }
  if (shape(rng) == 0) out += '.';
  if (shape(rng) == 0) out = out.substr(0, 1 + out.size() / 2);
  return out;
}

std::string generatedDigits(std::mt19937& rng) {
  std::uniform_int_distribution<int> pick(0, 5);
  std::string out;
  const int groups = 3 + pick(rng) % 3;
  for (int g = 0; g < groups; ++g) {
    if (g) out += '.';
    out += std::string(pick(rng), static_cast<char>('0' + pick(rng)));
  }
  return out;
}

}  // namespace

TEST(ViewNames, HostChecksAgreeWithTheRegularExpressionOverGeneratedNames) {
  std::mt19937 rng(31);
  int accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    const std::string name = i % 4 == 0 ? generatedDigits(rng) : generatedName(rng);
    ASSERT_EQ(isViewableHost(name), hostByRegex(name)) << "name: '" << name << "'";
    accepted += hostByRegex(name);
  }
  EXPECT_GT(accepted, 2000);  // the generator reaches both sides of the check
  EXPECT_LT(accepted, 18000);
}

TEST(ViewNames, LineageChecksAgreeWithTheRegularExpressionOverGeneratedNames) {
  std::mt19937 rng(32);
  int accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    const std::string name = generatedName(rng);
    ASSERT_EQ(isViewableLineage(name), lineageByRegex(name)) << "name: '" << name << "'";
    accepted += lineageByRegex(name);
  }
  EXPECT_GT(accepted, 2000);
  EXPECT_LT(accepted, 18000);
}

TEST(ViewNames, EdgesNamedOneByOne) {
  EXPECT_TRUE(isViewableHost("*.Example.org"));
  EXPECT_FALSE(isViewableHost("1.2.3.4"));
  EXPECT_TRUE(isViewableHost("1.2.3.4.5"));
  EXPECT_FALSE(isViewableHost("a..b"));
  EXPECT_FALSE(isViewableHost("-a.b"));
  EXPECT_FALSE(isViewableHost("*.*.b"));
  EXPECT_FALSE(isViewableHost(std::string(64, 'a')));
  EXPECT_TRUE(isViewableHost(std::string(63, 'a')));
  EXPECT_FALSE(isViewableLineage(".."));
  EXPECT_FALSE(isViewableLineage(""));
  EXPECT_TRUE(isViewableLineage("-x."));
  EXPECT_FALSE(isViewableLineage(std::string(65, 'a')));
}
