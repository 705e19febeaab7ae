// /metrics' figures: what a pass adds, what the responder counted, the format.
#include <gtest/gtest.h>

#include "core/time_format.h"
#include "metrics/registry.h"

using sc::metrics::LineageSample;
using sc::metrics::Registry;
using sc::metrics::ResponderCounts;

namespace {

bool has(const std::string& text, const std::string& line) { return text.find(line + "\n") != std::string::npos; }

}  // namespace

TEST(Metrics, PassesSetGaugesAndAddToCounters) {
  ResponderCounts counts{3, 4, 1, 0, 2};
  Registry r("1.2.3", [&] { return counts; });
  LineageSample s;
  s.name = "api";
  s.source = "acme";
  s.valid = true;
  s.notAfter = sc::fromUnixSeconds(1'800'000'000);
  s.nextCheck = sc::fromUnixSeconds(1'790'000'000);
  s.failedAttempts = 2;
  s.consecutiveFailures = 2;
  s.reloads = 1;
  r.passEnded(s);
  s.failedAttempts = 1;
  s.consecutiveFailures = 3;
  r.passEnded(s);
  r.alertDelivery("mail", true);
  r.alertDelivery("mail", false);
  std::string text = r.render();
  EXPECT_TRUE(has(text, "sidecert_build_info{version=\"1.2.3\"} 1")) << text;
  EXPECT_TRUE(has(text, "sidecert_certificate_expiry_timestamp_seconds{lineage=\"api\"} 1800000000")) << text;
  EXPECT_TRUE(has(text, "sidecert_certificate_source{lineage=\"api\",source=\"acme\"} 1"));
  EXPECT_TRUE(has(text, "sidecert_certificate_source{lineage=\"api\",source=\"self-signed\"} 0"));
  EXPECT_TRUE(has(text, "sidecert_renewal_failures_total{lineage=\"api\"} 3"));
  EXPECT_TRUE(has(text, "sidecert_renewal_consecutive_failures{lineage=\"api\"} 3"));
  EXPECT_TRUE(has(text, "sidecert_reloads_total{lineage=\"api\"} 2"));
  EXPECT_TRUE(has(text, "sidecert_http01_requests_total{result=\"not_found\"} 4"));
  EXPECT_TRUE(has(text, "sidecert_http01_connections_dropped_total 2"));
  EXPECT_TRUE(has(text, "sidecert_alert_delivery_failures_total{channel=\"mail\"} 1"));
  EXPECT_EQ(text.find("sidecert_last_issuance_timestamp_seconds{"), std::string::npos) << "never issued: no sample";
  EXPECT_NE(text.find("# TYPE sidecert_renewal_failures_total counter\n"), std::string::npos);
}

TEST(Metrics, ARetiredLineagesSeriesGoAndTheOthersStay) {
  Registry r("1.2.3", [] { return ResponderCounts{}; });
  LineageSample s;
  s.valid = true;
  s.notAfter = sc::fromUnixSeconds(1'800'000'000);
  for (const char* name : {"api", "web"}) {
    s.name = name;
    r.passEnded(s);
  }
  r.forget("web");
  std::string text = r.render();
  EXPECT_NE(text.find("lineage=\"api\""), std::string::npos) << text;
  EXPECT_EQ(text.find("lineage=\"web\""), std::string::npos) << text;
}

TEST(Metrics, LabelValuesAreEscaped) {
  Registry r("a\"b\\c\nd", nullptr);
  EXPECT_TRUE(has(r.render(), "sidecert_build_info{version=\"a\\\"b\\\\c\\nd\"} 1")) << r.render();
}
