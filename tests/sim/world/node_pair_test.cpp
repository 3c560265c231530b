// sim::run_node_pair: one cell of the NAT matrix, run by the real node in a
// world of its own.

#include <chrono>

#include <gtest/gtest.h>

#include "p2pd/sim/world/node_pair.hpp"

using namespace std::chrono_literals;
using namespace p2pd;

namespace {

sim::nat_profile profile_of(net::nat_type n, net::delta_type d) {
  return *sim::nat_profile::p2pd(n, d);
}

sim::node_pair_spec cell_spec(net::nat_type from, net::delta_type fd, net::nat_type to,
                         net::delta_type td, node::transport kind) {
  sim::node_pair_spec s;
  s.from = profile_of(from, fd);
  s.to = profile_of(to, td);
  s.kind = kind;
  s.seed = 9;
  return s;
}

using net::delta_type;
using net::nat_type;

TEST(SimNodePair, ANatedNodeConnectsToAnOpenOneDirectlyOverTcp) {
  auto r = sim::run_node_pair(cell_spec(nat_type::port_restricted, delta_type::equal,
                                        nat_type::open_internet, delta_type::equal,
                                        node::transport::stream));
  EXPECT_EQ(r.how, "direct") << r.error;
  EXPECT_GT(r.ms, 0);
}

TEST(SimNodePair, AnOpenNodeReachesANatedOneInReverseOverTcp) {
  auto r = sim::run_node_pair(cell_spec(nat_type::open_internet, delta_type::equal,
                                        nat_type::full_cone, delta_type::equal,
                                        node::transport::stream));
  EXPECT_EQ(r.how, "reverse") << r.error;
  // The direct attempt waits out its budget (2 s) first.
  EXPECT_GE(r.ms, 2000);
}

TEST(SimNodePair, TwoPortRestrictedNatsMeetByThePunchOverUdpAndTcp) {
  for (auto kind : {node::transport::datagram, node::transport::stream}) {
    auto r = sim::run_node_pair(cell_spec(nat_type::port_restricted, delta_type::equal,
                                          nat_type::port_restricted, delta_type::equal,
                                          kind));
    EXPECT_EQ(r.how, "punch") << node::to_string(kind) << ": " << r.error;
  }
}

TEST(SimNodePair, TwoRandomSymmetricNatsDoNotMeetWithoutARelay) {
  auto r = sim::run_node_pair(cell_spec(nat_type::symmetric, delta_type::random,
                                        nat_type::symmetric, delta_type::random,
                                        node::transport::datagram));
  EXPECT_EQ(r.how, "none");
  EXPECT_NE(r.error.find("relay"), std::string::npos) << r.error;
}

TEST(SimNodePair, TheSameSeedGivesTheSameCell) {
  auto spec = cell_spec(nat_type::full_cone, delta_type::equal, nat_type::symmetric,
                        delta_type::independent, node::transport::stream);
  auto a = sim::run_node_pair(spec);
  auto b = sim::run_node_pair(spec);
  EXPECT_EQ(a.how, b.how);
  EXPECT_EQ(a.ms, b.ms);
}

} // namespace
