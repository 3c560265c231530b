// The real node (spawn_node, as the api spawns it) on simulated hosts: its
// interface actors, STUN probes, signalling through the in-process hub and
// its connects all run on the sim stack and virtual time.

#include <chrono>

#include <gtest/gtest.h>

#include "caf/send.hpp"

#include "sim/world/scenario_fixture.hpp"

using namespace std::chrono_literals;
using namespace p2pd;
using namespace p2pd::test;

namespace {

/// A world with a STUN server (two addresses) and one node per host given.
struct node_world {
  sim::scenario sc;
  std::vector<node_actor> nodes;
  std::vector<std::shared_ptr<node_events>> events;
  std::vector<node_info> infos;

  explicit node_world(sim::scenario_config cfg = {}) : sc(cfg) {
    auto stun = sc.add_public_host({ip("11.0.200.1"), ip("11.0.200.2")});
    auto up = sc.add_stun_server(stun);
    EXPECT_TRUE(sc.run_until([&] { return up->done(); }, 10s));
    EXPECT_TRUE(up->ok());
  }

  void add(sim::host_id h) {
    auto spec = sc.node_spec_for(h);
    events.push_back(std::make_shared<node_events>());
    spec.subscribers.push_back(spawn_node_watcher(sc, events.back()));
    auto n = sc.add_node(std::move(spec));
    ASSERT_TRUE(n) << sc.system().render(n.error());
    nodes.push_back(*n);
  }

  /// Waits until every node is ready (virtual time).
  void ready() {
    std::vector<sim::answer_ptr<node_info>> rs;
    for (auto& n : nodes)
      rs.push_back(sc.ask<node_info>(n, 120s, ready_atom::value));
    auto r = sc.run_until(
      [&] { return std::all_of(rs.begin(), rs.end(), [](auto& x) { return x->done(); }); }, 120s);
    ASSERT_TRUE(r) << r.why;
    for (size_t i = 0; i < rs.size(); ++i) {
      ASSERT_TRUE(rs[i]->ok()) << sc.system().render((*rs[i]->value).error()) << "\n"
                               << lines(events[i]->progress);
      infos.push_back(**rs[i]->value);
    }
  }

  /// Node `a` connects to node `b`'s address with `opts`.
  caf::expected<node_connection> connect(size_t a, size_t b, node::connect_options opts) {
    auto c = sc.ask<node_connection>(nodes[a], 120s, connect_atom::value, infos[b].address, opts);
    auto r = sc.run_until([&] { return c->done(); }, 120s);
    if (!r)
      return make_error(errc::connect_timeout, "no answer to the connect: " + r.why);
    return *c->value;
  }
};

node::connect_options only(node::strategy s, node::transport kind) {
  node::connect_options o;
  o.strategies = {s};
  o.kind = kind;
  return o;
}

TEST(SimNode, TwoPublicNodesConnectDirectlyOverTcpAuthenticatedBothWays) {
  node_world w;
  w.add(w.sc.add_public_host());
  w.add(w.sc.add_public_host());
  w.ready();
  auto c = w.connect(0, 1, only(node::strategy::direct, node::transport::stream));
  ASSERT_TRUE(c) << w.sc.system().render(c.error()) << "\n" << lines(w.events[0]->progress);
  EXPECT_EQ(c->report.how, node::strategy::direct);
  EXPECT_EQ(c->report.path, node::path_kind::external);
  // Our side checked the peer's certificate: the node it is.
  EXPECT_EQ(c->peer, w.infos[1].id);
  // The peer's side checked ours: its connection names us.
  ASSERT_TRUE(w.sc.run_until([&] { return !w.events[1]->ups.empty(); }, 10s));
  EXPECT_EQ(w.events[1]->ups.front().peer, w.infos[0].id);
  EXPECT_TRUE(w.events[1]->ups.front().inbound);
  caf::anon_send(w.nodes[0], send_atom::value, w.infos[1].id, text_bytes("over tcp"));
  ASSERT_TRUE(w.sc.run_until([&] { return !w.events[1]->msgs.empty(); }, 10s));
  EXPECT_EQ(w.events[1]->msgs.front(), std::make_pair(w.infos[0].id, std::string{"over tcp"}));
}

TEST(SimNode, TwoPublicNodesConnectOverUdpByThePunchExchange) {
  node_world w;
  w.add(w.sc.add_public_host());
  w.add(w.sc.add_public_host());
  w.ready();
  auto c = w.connect(0, 1, only(node::strategy::punch, node::transport::datagram));
  ASSERT_TRUE(c) << w.sc.system().render(c.error()) << "\n" << lines(w.events[0]->progress);
  EXPECT_EQ(c->report.how, node::strategy::punch);
  EXPECT_EQ(c->report.kind, node::transport::datagram);
  EXPECT_EQ(c->peer, w.infos[1].id);
  ASSERT_TRUE(w.sc.run_until([&] { return !w.events[1]->ups.empty(); }, 10s));
  EXPECT_EQ(w.events[1]->ups.front().peer, w.infos[0].id);
  caf::anon_send(w.nodes[0], send_atom::value, w.infos[1].id, text_bytes("over udp"));
  ASSERT_TRUE(w.sc.run_until([&] { return !w.events[1]->msgs.empty(); }, 10s));
  EXPECT_EQ(w.events[1]->msgs.front(), std::make_pair(w.infos[0].id, std::string{"over udp"}));
}

// Behind a full cone NAT, a node reaches a public one directly; the public
// one cannot connect in (no mapping holds the node port for TCP), so it
// asks over signalling and the NATed node connects back: reverse.
TEST(SimNode, AFullConeNodeConnectsOutDirectlyAndIsReachedInReverse) {
  node_world w;
  auto site = w.sc.add_site(*sim::nat_profile::p2pd(net::nat_type::full_cone,
                                                     net::delta_type::equal));
  w.add(w.sc.add_host(site));
  w.add(w.sc.add_public_host());
  w.ready();
  auto out = w.connect(0, 1, only(node::strategy::direct, node::transport::stream));
  ASSERT_TRUE(out) << w.sc.system().render(out.error()) << "\n" << lines(w.events[0]->progress);
  EXPECT_EQ(out->report.how, node::strategy::direct);
  EXPECT_EQ(out->peer, w.infos[1].id);
  node::connect_options both;
  both.strategies = {node::strategy::direct, node::strategy::reverse};
  auto back = w.connect(1, 0, both);
  ASSERT_TRUE(back) << w.sc.system().render(back.error()) << "\n" << lines(w.events[1]->progress);
  // Its own connection (node 0's is inbound to node 1, not shared): the
  // direct attempt ran out its budget, then reverse won.
  EXPECT_FALSE(back->report.shared);
  EXPECT_EQ(back->report.how, node::strategy::reverse);
  EXPECT_EQ(back->peer, w.infos[0].id);
  ASSERT_EQ(back->report.attempts.size(), 2u) << back->report.to_string();
  EXPECT_EQ(back->report.attempts[0].attempt.rfind("direct", 0), 0u);
  EXPECT_NE(back->report.attempts[0].outcome, "won");
  EXPECT_EQ(back->report.attempts[1].outcome, "won");
}

} // namespace
