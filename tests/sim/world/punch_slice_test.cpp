// A first slice of the NAT matrix: the node's UDP and TCP punches between
// the lab's site kinds, against the kernel lab's measured punch matrix
// (../shared/netlab/results/punch-matrix.txt: udp and tcp+listen columns,
// 3 tries each; the lab's plain SNAT keeps ports, so its NATs are the
// presets with equal allocation, and its symmetric NAT allocates at random).

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

struct lab_pair {
  size_t a, b;
  bool udp;  ///< the lab's udp column: 3/3 (true) or 0/3
  bool tcp;  ///< its tcp+listen column
  /// The node sprays here (a birthday search of 256 mappings by 256 probes
  /// over 64k ports, odds about 63%), which the lab's raw punch does not:
  /// its outcome is the seed's luck, not the lab's column.
  bool spray = false;
};

TEST(SimPunchSlice, NodePunchesAgreeWithTheLabsMatrix) {
  sim::scenario_config cfg;
  cfg.seed = 11;
  cfg.internet = {10ms};
  sim::node_scenario w{cfg};
  // The lab's hosts h1..h7, in its order.
  w.add_nat_node(nat_type::port_restricted, delta_type::equal, "h1 portrestricted");
  w.add_nat_node(nat_type::port_restricted, delta_type::equal, "h2 portrestricted");
  w.add_nat_node(nat_type::symmetric, delta_type::random, "h3 symmetric");
  w.add_nat_node(nat_type::symmetric, delta_type::random, "h4 symmetric");
  w.add_nat_node(nat_type::full_cone, delta_type::equal, "h5 fullcone");
  w.add_nat_node(nat_type::restricted, delta_type::equal, "h6 restricted");
  w.add_public_node("h7 open");
  ASSERT_TRUE(w.wait_ready(60s)) << w.why();
  // The lab's rows (run 1 and run 2 agree on these columns).
  const std::vector<lab_pair> lab = {
    {0, 1, true, true},   {4, 0, true, true},   {5, 0, true, true},  {4, 5, true, true},
    {0, 2, false, false, true}, {4, 2, true, true},   {5, 2, true, true},  {2, 3, false, false},
    {6, 0, true, true},   {6, 2, true, true},
  };
  for (auto& p : lab) {
    w.connect(p.a, p.b, strategy::punch, transport::datagram);
    w.connect(p.a, p.b, strategy::punch, transport::stream);
  }
  auto rows = w.run_connects(30s, 5min);
  std::cout << sim::node_scenario::table(rows);
  ASSERT_EQ(rows.size(), 2 * lab.size());
  for (size_t i = 0; i < lab.size(); ++i) {
    auto& u = rows[2 * i];
    auto& t = rows[2 * i + 1];
    if (lab[i].spray) {
      // A connect report's attempts begin with the plan: here the spray.
      ASSERT_TRUE(u.report || !u.error.empty());
      auto how = u.report ? u.report->attempts.front().outcome : u.error;
      EXPECT_NE(how.find("spray"), std::string::npos) << how;
    } else {
      EXPECT_EQ(u.connected(), lab[i].udp) << "UDP " << u.from << " - " << u.to << ": " << u.error;
    }
    EXPECT_EQ(t.connected(), lab[i].tcp) << "TCP " << t.from << " - " << t.to << ": " << t.error;
  }
}

} // namespace
