// sim::node_scenario reads like simulation.md's sketch: sites with NAT
// profiles, nodes, wait until ready, connects of pairs with given
// strategies, and the connect reports as a table.

#include <chrono>
#include <iostream>

#include <gtest/gtest.h>

#include "p2pd/sim/world/node_scenario.hpp"
#include "sim/world/scenario_fixture.hpp"

using namespace std::chrono_literals;
using namespace p2pd;
using namespace p2pd::test;

namespace {

using net::delta_type;
using net::nat_type;
using node::strategy;
using node::transport;

/// Four nodes: open, full cone, port restricted, symmetric; every ordered
/// pair tries direct, then reverse, over TCP. The rows and the trace hash.
std::pair<std::vector<sim::connect_outcome>, uint64_t> four_nats(uint64_t seed) {
  sim::scenario_config cfg;
  cfg.seed = seed;
  cfg.internet = {20ms};
  sim::node_scenario w{cfg};
  w.add_public_node("open");
  w.add_nat_node(nat_type::full_cone, delta_type::equal, "full cone");
  w.add_nat_node(nat_type::port_restricted, delta_type::preserving, "port restricted");
  w.add_nat_node(nat_type::symmetric, delta_type::random, "symmetric");
  EXPECT_TRUE(w.wait_ready(60s)) << w.why();
  for (size_t a = 0; a < w.size(); ++a)
    for (size_t b = 0; b < w.size(); ++b)
      if (a != b)
        for (auto s : {strategy::direct, strategy::reverse})
          w.connect(a, b, s, transport::stream);
  auto rows = w.run_connects(30s);
  return {rows, w.trace_shape_hash()};
}

TEST(SimNodeScenario, DirectAndReverseOverTcpBetweenFourNatsReadLikeTheSketch) {
  auto [rows, hash] = four_nats(7);
  std::cout << sim::node_scenario::table(rows);
  ASSERT_EQ(rows.size(), 24u);
  // TCP through NATs that forward nothing: a NATed node connects out to the
  // open one (direct); the open one reaches a NATed node only by asking it
  // to connect back (reverse); two NATed nodes meet by neither.
  for (auto& r : rows) {
    bool open_from = r.from == "open", open_to = r.to == "open";
    std::string want = "none";
    if (open_to && r.tried == "direct")
      want = "direct";
    if (open_from && r.tried == "reverse")
      want = "reverse";
    EXPECT_EQ(r.how, want) << r.from << " -> " << r.to << " by " << r.tried << ": " << r.error;
    if (r.connected()) {
      EXPECT_LT(r.ms, 500) << r.from << " -> " << r.to;
    }
  }
  auto [again, hash2] = four_nats(7);
  // The same run again: the same outcomes at the same virtual times, the
  // same packets (TLS and STUN's random bytes aside).
  EXPECT_EQ(hash2, hash);
  ASSERT_EQ(again.size(), rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(again[i].how, rows[i].how) << i;
    EXPECT_EQ(again[i].ms, rows[i].ms) << i;
  }
}

// A reverse connect asks over signalling: the hub's latency is in its time.
int64_t reverse_ms(caf::timespan hub_latency) {
  sim::scenario_config cfg;
  cfg.hub.latency = hub_latency;
  sim::node_scenario w{cfg};
  auto open = w.add_public_node("open");
  auto natted = w.add_nat_node(nat_type::port_restricted, delta_type::equal, "natted");
  EXPECT_TRUE(w.wait_ready(60s)) << w.why();
  w.connect(open, natted, strategy::reverse, transport::stream);
  auto rows = w.run_connects(30s);
  EXPECT_EQ(rows.at(0).how, "reverse") << rows.at(0).error;
  return rows.at(0).ms;
}

TEST(SimNodeScenario, TheSignallingHubsLatencyIsInAReverseConnectsTime) {
  auto quick = reverse_ms(0ms);
  auto slow = reverse_ms(300ms);
  // The request to connect back crosses the hub once (300 ms more); the
  // rest is the same network.
  EXPECT_GE(slow - quick, 300) << quick << " ms, then " << slow << " ms";
  EXPECT_LT(slow - quick, 1000) << quick << " ms, then " << slow << " ms";
}

} // namespace
