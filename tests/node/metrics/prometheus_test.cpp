// to_prometheus (node/metrics/prometheus.hpp) on metrics made by hand: the
// output passes the strict reader, follows the naming rules, and says what
// the metrics hold.
#include <gtest/gtest.h>

#include "p2pd/node/metrics/prometheus.hpp"

#include "support/prometheus_text.hpp"

using namespace p2pd;
using namespace p2pd::test;

namespace {

node_metrics sample_metrics() {
  node_metrics m;
  m.stats.connections = 2;
  m.stats.messages_in = 5;
  m.stats.bytes_in = 120;
  m.stats.refused_auth = 1;
  ms_histogram h;
  for (int64_t ms : {3, 7, 10, 20000})
    h.observe(ms);
  m.connect_times.push_back({"direct", h});
  m.connects.push_back({"direct", "ok", 4});
  m.connects.push_back({"none", "failed", 1});
  pipe_metrics p;
  p.role = "listener";
  p.name = "tcp 127.0.0.1:4000";
  p.stats.dropped_queue_full = 9;
  p.restarts = 2;
  m.pipes.push_back(p);
  // A label value that needs every escape.
  m.nats.push_back({"we\"ird\\if\nace", "IPv4", "open"});
  m.children.push_back({"interface lo", 3});
  return m;
}

prom_document read(const std::string& text) {
  auto r = parse_prometheus_text(text);
  EXPECT_TRUE(r.ok()) << r.error << "\n" << text;
  return r.doc;
}

} // namespace

TEST(PrometheusFormat, FollowsTheNamingRules) {
  auto m = sample_metrics();
  m.has_signal = true;
  auto doc = read(to_prometheus(m, "node\"id"));
  ASSERT_FALSE(doc.families.empty());
  for (auto& f : doc.families) {
    EXPECT_EQ(f.name.rfind("p2pd_", 0), 0u) << f.name;
    EXPECT_FALSE(f.help.empty()) << f.name;
    EXPECT_NE(f.type, "untyped") << f.name;
    bool total = f.name.size() > 6 && f.name.substr(f.name.size() - 6) == "_total";
    EXPECT_EQ(total, f.type == "counter") << f.name;
  }
  EXPECT_EQ(doc.value("p2pd_node_info", {{"id", "node\"id"}}), 1.0);
}

TEST(PrometheusFormat, WritesTheConnectHistogramInSeconds) {
  auto doc = read(to_prometheus(sample_metrics()));
  auto bucket = [&](const char* le) {
    return doc.value("p2pd_connect_duration_seconds_bucket", {{"strategy", "direct"}, {"le", le}});
  };
  EXPECT_EQ(bucket("0.005"), 1.0);
  EXPECT_EQ(bucket("0.01"), 3.0); // 10 ms is in le=0.01
  EXPECT_EQ(bucket("10"), 3.0);
  EXPECT_EQ(bucket("+Inf"), 4.0);
  EXPECT_EQ(doc.value("p2pd_connect_duration_seconds_count", {{"strategy", "direct"}}), 4.0);
  EXPECT_DOUBLE_EQ(*doc.value("p2pd_connect_duration_seconds_sum", {{"strategy", "direct"}}),
                   20.02);
  // Strategies that made nothing yet have their series, at zero.
  EXPECT_EQ(doc.value("p2pd_connect_duration_seconds_count", {{"strategy", "relay"}}), 0.0);
  EXPECT_EQ(doc.value("p2pd_connects_total", {{"strategy", "punch"}, {"outcome", "failed"}}),
            0.0);
}

TEST(PrometheusFormat, WritesCountersPipesNatAndChildren) {
  auto doc = read(to_prometheus(sample_metrics()));
  EXPECT_EQ(doc.value("p2pd_connects_total", {{"strategy", "direct"}, {"outcome", "ok"}}), 4.0);
  EXPECT_EQ(doc.value("p2pd_connects_total", {{"strategy", "none"}, {"outcome", "failed"}}), 1.0);
  EXPECT_EQ(doc.value("p2pd_connections"), 2.0);
  EXPECT_EQ(doc.value("p2pd_bytes_total", {{"direction", "in"}}), 120.0);
  EXPECT_EQ(doc.value("p2pd_refused_total", {{"what", "auth"}}), 1.0);
  EXPECT_EQ(doc.value("p2pd_pipe_dropped_total", {{"role", "listener"},
                                                  {"pipe", "tcp 127.0.0.1:4000"},
                                                  {"reason", "queue_full"}}),
            9.0);
  EXPECT_EQ(doc.value("p2pd_listener_restarts_total", {{"pipe", "tcp 127.0.0.1:4000"}}), 2.0);
  EXPECT_EQ(doc.value("p2pd_nat_type",
                      {{"interface", "we\"ird\\if\nace"}, {"family", "IPv4"}, {"type", "open"}}),
            1.0);
  EXPECT_EQ(doc.value("p2pd_child_restarts_total", {{"child", "interface lo"}}), 3.0);
}

TEST(PrometheusFormat, SaysWhenTheSignalNodeDidNotAnswer) {
  auto m = sample_metrics();
  auto doc = read(to_prometheus(m));
  EXPECT_EQ(doc.value("p2pd_signal_up"), 0.0);
  EXPECT_EQ(doc.family("p2pd_signal_refused_total"), nullptr);
  m.has_signal = true;
  m.signal.bad_signature = 7;
  doc = read(to_prometheus(m));
  EXPECT_EQ(doc.value("p2pd_signal_up"), 1.0);
  EXPECT_EQ(doc.value("p2pd_signal_refused_total", {{"reason", "bad_signature"}}), 7.0);
}

TEST(PrometheusFormat, EscapesLabelValues) {
  EXPECT_EQ(prometheus_label_escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  EXPECT_EQ(prometheus_label_escape("plain"), "plain");
}
