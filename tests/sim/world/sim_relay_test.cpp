// The relay and the clock in the simulated world: node_scenario starts the
// project's TURN server on a public host and names it in every node's spec,
// so two nodes behind NATs no punch crosses still meet (relay: datagrams,
// and streams through TCP allocations);
// add_time_server() starts the NTP responder, and a node on a host whose
// clock runs ahead measures that offset on virtual time.

#include <algorithm>
#include <chrono>
#include <iostream>
#include <vector>

#include <gtest/gtest.h>

#include "p2pd/messages/clock.hpp"
#include "p2pd/sim/world/node_scenario.hpp"

using namespace std::chrono_literals;
using namespace p2pd;

namespace {

using net::delta_type;
using net::nat_type;
using node::strategy;
using node::transport;

/// Two nodes, each behind a symmetric NAT with random ports: no punch
/// predicts the other's mapping.
struct two_symmetric {
  sim::node_scenario w;
  size_t a = w.add_nat_node(nat_type::symmetric, delta_type::random, "a");
  size_t b = w.add_nat_node(nat_type::symmetric, delta_type::random, "b");

  /// a connects to b by relay (`kind`, with `strategies`); then a message
  /// each way must arrive.
  void relay_and_cross(transport kind, std::vector<strategy> strategies) {
    node::connect_options o;
    o.kind = kind;
    o.strategies = std::move(strategies);
    auto got = w.ask<node_connection>(w.node(a), 30s, connect_atom::value, w.info(b).address, o);
    ASSERT_TRUE(w.run_until([&] { return got->done(); }, 31s)) << "no answer to the connect";
    ASSERT_TRUE(got->ok()) << w.system().render(got->value->error());
    auto& rep = (*got->value)->report;
    EXPECT_EQ(rep.how, strategy::relay) << rep.to_string();
    EXPECT_EQ(rep.path, node::path_kind::relayed);
    // b sends once it has the connection (a stream reaches it after a's
    // connect is answered).
    ASSERT_TRUE(w.run_until([&] { return !w.events(b).ups.empty(); }, 5s))
      << "b never saw the connection come up";
    auto ab = w.ask<caf::ok_atom>(w.node(a), 5s, send_atom::value, w.info(b).id,
                                  bytes{'t', 'o', ' ', 'b'});
    auto ba = w.ask<caf::ok_atom>(w.node(b), 5s, send_atom::value, w.info(a).id,
                                  bytes{'t', 'o', ' ', 'a'});
    auto crossed = [&] { return !w.events(a).msgs.empty() && !w.events(b).msgs.empty(); };
    ASSERT_TRUE(w.run_until(crossed, 5s)) << "a got " << w.events(a).msgs.size() << ", b got "
                                          << w.events(b).msgs.size();
    EXPECT_TRUE(ab->ok());
    EXPECT_TRUE(ba->ok());
    EXPECT_EQ(w.events(b).msgs.front(), std::make_pair(w.info(a).id, std::string{"to b"}));
    EXPECT_EQ(w.events(a).msgs.front(), std::make_pair(w.info(b).id, std::string{"to a"}));
  }
};

TEST(SimRelay, TwoNodesBehindSymmetricRandomNatsMeetByRelayOverUdpAndMessagesCross) {
  two_symmetric t;
  ASSERT_TRUE(t.w.wait_ready(60s)) << t.w.why();
  ASSERT_EQ(t.w.turn_servers().size(), 1u);
  // Both ways, through the relayed addresses on 11.0.201.1.
  t.relay_and_cross(transport::datagram, {strategy::punch, strategy::relay});
}

TEST(SimRelay, TwoNodesBehindSymmetricRandomNatsMeetByRelayOverTcpAndMessagesCross) {
  // The node relays a stream through RFC 6062 TCP allocations on the
  // project's TURN server.
  two_symmetric t;
  ASSERT_TRUE(t.w.wait_ready(60s)) << t.w.why();
  t.relay_and_cross(transport::stream, {strategy::relay});
}

TEST(SimClock, ANodeWhoseHostRunsAheadMeasuresTheOffsetFromTheWorldsNtpResponder) {
  sim::node_scenario w;
  ASSERT_TRUE(w.add_time_server()) << w.why();
  auto prof = sim::nat_profile::p2pd(nat_type::port_restricted, delta_type::preserving);
  ASSERT_TRUE(prof);
  auto h = w.add_host(w.add_site(*prof));
  w.set_skew(h, 400ms);
  auto n = w.add_node(h, "ahead");
  ASSERT_TRUE(w.wait_ready(60s)) << w.why();
  // The node's clock is one of its children; ask it for its estimate.
  auto kids = w.ask<std::vector<node_child>>(w.node(n), 5s, children_atom::value);
  ASSERT_TRUE(w.run_until([&] { return kids->done(); }, 6s));
  ASSERT_TRUE(kids->ok());
  auto& list = **kids->value;
  auto it = std::find_if(list.begin(), list.end(),
                         [](const node_child& c) { return c.name == "NTP clock"; });
  ASSERT_NE(it, list.end()) << "the node runs no NTP clock";
  ASSERT_TRUE(it->actor);
  auto est = w.ask<clock_offset>(it->actor, 60s, caf::get_atom::value);
  ASSERT_TRUE(w.run_until([&] { return est->done(); }, 61s));
  ASSERT_TRUE(est->ok()) << w.system().render(est->value->error());
  auto& c = **est->value;
  // The responder's host keeps true (virtual) time; ours is 400 ms ahead,
  // so true time is ours minus 400 ms. Links are symmetric and virtual
  // time has no jitter: within a millisecond.
  EXPECT_NEAR(c.offset_ns, -400'000'000, 1'000'000) << c.offset_ns;
  EXPECT_EQ(c.servers, 1u);
}

} // namespace
