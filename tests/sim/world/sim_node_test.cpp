// The real node (spawn_node, as the api spawns it) on simulated hosts: its
// interface actors, STUN probes (the project's STUN server on a simulated
// host), signalling through the in-process hub and its connects all run on
// the sim stack and virtual time.

#include <chrono>
#include <optional>

#include <gtest/gtest.h>

#include "caf/send.hpp"

#include "p2pd/sim/world/node_scenario.hpp"
#include "sim/world/scenario_fixture.hpp"

using namespace std::chrono_literals;
using namespace p2pd;
using namespace p2pd::test;

namespace {

/// Node `a` of `w` connects to node `b` with `opts` (one case, run now).
sim::connect_outcome connect_now(sim::node_scenario& w, size_t a, size_t b,
                                 node::connect_options opts) {
  w.connect(a, b, std::move(opts));
  return w.run_connects(120s).front();
}

node::connect_options only(node::strategy s, node::transport kind) {
  node::connect_options o;
  o.strategies = {s};
  o.kind = kind;
  return o;
}

TEST(SimNode, TwoPublicNodesLearnTheirNatAndBecomeReady) {
  sim::node_scenario w;
  w.add_public_node("a");
  w.add_public_node("b");
  ASSERT_TRUE(w.wait_ready(120s)) << w.why();
  for (size_t i = 0; i < 2; ++i) {
    auto& p = w.events(i).progress;
    EXPECT_NE(std::find(p.begin(), p.end(), "NAT IPv4 known: open_internet, delta not_applicable"),
              p.end())
      << lines(p);
    EXPECT_FALSE(w.info(i).listeners.empty());
  }
  EXPECT_LT(w.now(), 10s) << "the start takes virtual seconds at most";
}

/// Two public nodes; node 0 connects to node 1 with `opts` and keeps the
/// connection; both sides must name each other (each checked the other's
/// certificate), and `text` must cross it. Returns node 0's connection.
std::optional<node_connection> connect_and_send(sim::node_scenario& w, node::connect_options opts,
                                                const std::string& text) {
  w.add_public_node("a");
  w.add_public_node("b");
  EXPECT_TRUE(w.wait_ready(120s)) << w.why();
  if (w.size() != 2 || w.why().size() > 0)
    return std::nullopt;
  // Kept open: the message goes over it (run_connects would close it).
  auto got = w.ask<node_connection>(w.node(0), 60s, connect_atom::value, w.info(1).address, opts);
  EXPECT_TRUE(w.run_until([&] { return got->done(); }, 60s));
  if (!got->ok()) {
    ADD_FAILURE() << (got->done() ? w.system().render(got->value->error()) : "no answer") << "\n"
                  << lines(w.events(0).progress);
    return std::nullopt;
  }
  auto conn = **got->value;
  // Our side checked the peer's certificate: the node it is.
  EXPECT_EQ(conn.peer, w.info(1).id);
  // The peer's side checked ours: its connection names us.
  EXPECT_TRUE(w.run_until([&] { return !w.events(1).ups.empty(); }, 10s));
  if (!w.events(1).ups.empty()) {
    EXPECT_EQ(w.events(1).ups.front().peer, w.info(0).id);
  }
  caf::anon_send(w.node(0), send_atom::value, w.info(1).id, text_bytes(text));
  EXPECT_TRUE(w.run_until([&] { return !w.events(1).msgs.empty(); }, 10s));
  if (!w.events(1).msgs.empty()) {
    EXPECT_EQ(w.events(1).msgs.front(), std::make_pair(w.info(0).id, text));
  }
  return conn;
}

TEST(SimNode, TwoPublicNodesConnectDirectlyOverTcpAuthenticatedBothWays) {
  sim::node_scenario w;
  auto conn = connect_and_send(w, only(node::strategy::direct, node::transport::stream),
                               "over tcp");
  ASSERT_TRUE(conn);
  EXPECT_EQ(conn->report.how, node::strategy::direct);
  EXPECT_EQ(conn->report.path, node::path_kind::external);
  EXPECT_EQ(conn->report.kind, node::transport::stream);
  // The peer accepted it (a punch's link has no such side).
  ASSERT_FALSE(w.events(1).ups.empty());
  EXPECT_TRUE(w.events(1).ups.front().inbound);
}

TEST(SimNode, TwoPublicNodesConnectOverUdpByThePunchExchange) {
  sim::node_scenario w;
  auto conn = connect_and_send(w, only(node::strategy::punch, node::transport::datagram),
                               "over udp");
  ASSERT_TRUE(conn);
  EXPECT_EQ(conn->report.how, node::strategy::punch);
  EXPECT_EQ(conn->report.kind, node::transport::datagram);
}

// Behind a full cone NAT, a node reaches a public one directly; the public
// one cannot connect in (no mapping holds the node port for TCP), so it
// asks over signalling and the NATed node connects back: reverse.
TEST(SimNode, AFullConeNodeConnectsOutDirectlyAndIsReachedInReverse) {
  sim::node_scenario w;
  w.add_nat_node(net::nat_type::full_cone, net::delta_type::equal, "full cone");
  w.add_public_node("public");
  ASSERT_TRUE(w.wait_ready(120s)) << w.why();
  auto out = connect_now(w, 0, 1, only(node::strategy::direct, node::transport::stream));
  ASSERT_TRUE(out.connected()) << out.error << "\n" << lines(w.events(0).progress);
  EXPECT_EQ(out.report->peer, w.info(1).id);
  node::connect_options both;
  both.strategies = {node::strategy::direct, node::strategy::reverse};
  auto back = connect_now(w, 1, 0, both);
  ASSERT_TRUE(back.connected()) << back.error << "\n" << lines(w.events(1).progress);
  // The direct attempt ran out its budget, then reverse won.
  EXPECT_EQ(back.how, "reverse");
  EXPECT_EQ(back.report->peer, w.info(0).id);
  ASSERT_EQ(back.report->attempts.size(), 2u) << back.report->to_string();
  EXPECT_EQ(back.report->attempts[0].attempt.rfind("direct", 0), 0u);
  EXPECT_NE(back.report->attempts[0].outcome, "won");
  EXPECT_EQ(back.report->attempts[1].outcome, "won");
}

} // namespace

namespace {

// Teardown ends everything: nodes closed, servers, watchers and helpers
// ended, the world's driver gone; nothing is left for the system to wait for.
TEST(SimNode, ShutdownLeavesNoActorRunning) {
  sim::node_scenario w;
  w.add_public_node("a");
  w.add_nat_node(net::nat_type::port_restricted, net::delta_type::equal, "b");
  ASSERT_TRUE(w.wait_ready(120s)) << w.why();
  w.connect(1, 0, node::strategy::direct, node::transport::stream);
  ASSERT_TRUE(w.run_connects(30s).front().connected());
  EXPECT_GT(w.system().registry().running(), 10u);
  w.shutdown();
  EXPECT_EQ(w.system().registry().running(), 0u);
  EXPECT_FALSE(w.coordinator().clock().has_pending_timeout());
}

// Over IPv6 (global addresses, each site behind its IPv6 firewall) a node
// connects directly to a public one.
TEST(SimNode, NodesConnectOverIpv6) {
  sim::scenario_config cfg;
  cfg.ipv6 = true;
  sim::node_scenario w{cfg};
  w.add_nat_node(net::nat_type::port_restricted, net::delta_type::equal, "natted");
  w.add_public_node("public");
  ASSERT_TRUE(w.wait_ready(120s)) << w.why();
  node::connect_options v6;
  v6.strategies = {node::strategy::direct};
  v6.families = {net::family::v6};
  w.connect(0, 1, v6);
  auto r = w.run_connects(30s).front();
  ASSERT_TRUE(r.connected()) << r.error << "\n" << lines(w.events(0).progress);
  EXPECT_EQ(r.report->fam, net::family::v6);
  EXPECT_TRUE(r.report->remote.ip.is_v6()) << r.report->to_string();
}

} // namespace
